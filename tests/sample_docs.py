"""Small documents shared by the index, indexing and evaluation tests, and an app serving them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.engine import Engine
from qa.index.milvus import MilvusTarget
from qa.search import RetrievalConfig
from qa.settings import IndexBackend, Settings

PARK_TXT = (
    "上清寺园区简介\n\n"
    "上清寺互联网产业园位于重庆市渝中区。园区2018年新增企业300家。该园区入驻率达到百分之九十。\n\n"
    "园区的范围西至鹅岭公园，东至人民大礼堂。\n"
)
SOLAR_MD = (
    "# Solar Power Report\n\n"
    "The solar farm produced 120 megawatts in 2020. It employs 45 engineers.\n\n"
    "Maintenance happens every spring. The farm is located near the river.\n"
)


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    """Write ``docs`` (name -> text, names may hold folders) under ``folder``; return ``folder``."""
    for name, text in docs.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def fake_app(
    root: Path,
    docs: dict[str, str],
    *,
    encoder: FakeEncoder | None = None,
    backend: IndexBackend | None = None,
    **settings: object,
) -> FastAPI:
    """An app over ``docs`` written and indexed under ``root`` with the fake encoder (given or new).

    ``settings`` override the defaults: the index and cache under ``root``, model ``fake``; the index
    is of ``backend`` (given, else ``QA_INDEX_BACKEND``); ``"milvus"`` keeps it in a Milvus Lite
    file of its own under ``root``.
    """
    encoder = encoder or FakeEncoder()
    milvus = MilvusTarget(str(root / "milvus.db"))
    values: dict[str, object] = {"index_dir": root / "index", "cache_dir": root / "cache", "model": "fake"}
    values |= {"milvus_uri": milvus.uri, **settings}
    if backend is not None:
        values["index_backend"] = backend
    config = Settings(_env_file=None, **values)  # type: ignore[arg-type]
    docs_dir = write_docs(root / "docs", docs)
    index, _ = build_index([docs_dir], root / "index", encoder, None, backend=config.index_backend, milvus=milvus)
    return create_app(config, Engine(index, encoder, RetrievalConfig()))


def ask(client: TestClient, question: str, **body: object) -> dict[str, Any]:
    """The JSON answer of POST /v1/ask for ``question`` (and ``body``), which must be a 200."""
    response = client.post("/v1/ask", json={"question": question, **body})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result
