"""Shared fixtures, each built once per session under a temporary folder: the seeds indexed with the real
default model (for the ``model`` tests: an engine, settings and an API client over it), the PDF and Word
test documents, and a real Milvus server (``milvus_uri``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests import binary_docs, milvus_server
from tests.binary_docs import BinarySamples

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from qa.engine import Engine
    from qa.settings import Settings

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--store segments`` makes every new index built with the ``auto`` store a segmented one."""
    parser.addoption("--store", choices=("auto", "segments"), default="auto", help="store of new auto-built indexes")


@pytest.fixture(autouse=True)
def _store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.config.getoption("--store") == "segments":
        monkeypatch.setattr("qa.index.opening.SEGMENTS_FROM_BYTES", 0)


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of an index of the seeds built with the real default model (built here, once)."""
    from qa.engine import open_engine
    from qa.settings import Settings

    settings = Settings(_env_file=None, corpus=SEEDS, index_dir=tmp_path_factory.mktemp("seeds") / "index")
    open_engine(settings, build=True)
    return settings


@pytest.fixture(scope="session")
def seed_engine(seed_settings: Settings) -> Engine:
    """The engine over the real-model index of the seeds."""
    from qa.engine import open_engine

    return open_engine(seed_settings)


@pytest.fixture(scope="session")
def seed_client(seed_settings: Settings) -> Iterator[TestClient]:
    """An API client of an app serving the real-model index of the seeds."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(seed_settings)) as client:
        yield client


@pytest.fixture(scope="session")
def milvus_binaries(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Path:
    """The binaries of a real Milvus 2.3.5 standalone server, unpacked from the ``milvus`` wheel into pytest's
    cache once (a few seconds, 250 MB)."""
    cache = pytestconfig.cache.mkdir(f"milvus-{milvus_server.VERSION}") if pytestconfig.cache else None
    return milvus_server.binaries(cache or tmp_path_factory.mktemp("milvus-binaries"))


@pytest.fixture(scope="session")
def milvus_uri(tmp_path_factory: pytest.TempPathFactory, milvus_binaries: Path) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a real Milvus 2.3.5 standalone server with its data in a temporary folder,
    started once (a few seconds) and stopped at the end of the session (see tests/milvus_server.py)."""
    yield from milvus_server.serve(tmp_path_factory.mktemp("milvus"), milvus_binaries)


@pytest.fixture(scope="session")
def binary_samples(tmp_path_factory: pytest.TempPathFactory) -> BinarySamples:
    """The PDF and DOCX samples (reportlab and python-docx only: a second or two)."""
    root = tmp_path_factory.mktemp("binary")
    features, pdfs, docxs = root / "features", root / "seeds_pdf", root / "seeds_docx"
    for folder in (features, pdfs, docxs):
        folder.mkdir()
    for seed in binary_docs.seed_paths():
        binary_docs.reportlab_seed_pdf(seed, pdfs / f"{seed.stem}.pdf")
        binary_docs.docx_seed(seed, docxs / f"{seed.stem}.docx")
    return BinarySamples(
        feature_pdf=binary_docs.feature_pdf(features / "sample.pdf"),
        encrypted_pdf=binary_docs.feature_pdf(root / "locked.pdf", password="secret"),
        scanned_pdf=binary_docs.scanned_pdf(root / "scan.pdf"),
        feature_docx=binary_docs.feature_docx(features / "sample.docx"),
        seeds_pdf=pdfs,
        seeds_docx=docxs,
    )


@pytest.fixture(scope="session")
def chromium_seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds rendered as HTML and printed to PDF by Chromium (a few seconds each)."""
    if not binary_docs.CHROMIUM.exists():
        pytest.fail(f"{binary_docs.CHROMIUM} is missing: run `make browser` (Debian's chromium)", pytrace=False)
    folder = tmp_path_factory.mktemp("chromium_seeds")
    pages = tmp_path_factory.mktemp("chromium_html")
    for seed in binary_docs.seed_paths():
        page = pages / f"{seed.stem}.html"
        page.write_text(binary_docs.seed_html(seed), encoding="utf-8")
        binary_docs.chromium_pdf(page, folder / f"{seed.stem}.pdf")
    return folder
