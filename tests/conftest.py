"""Shared fixtures: the PDF and Word test documents, built once per session under a temporary folder."""

from __future__ import annotations

from pathlib import Path

import binary_docs
import pytest
from binary_docs import BinarySamples


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
