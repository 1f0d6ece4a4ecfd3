"""The web page over a PDF, in headless Chromium: a hit shows its page and opens the PDF at it.

The server indexes the feature sample PDF with the fake encoder (the question is one of its
sentences, so the lexical leg finds it); screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from qa.settings import Settings
from tests import binary_docs
from tests.api.test_browser import browser, search, serve, shot, start_page
from tests.binary_docs import BinarySamples

__all__ = ["browser"]  # the Chromium fixture, shared with the main browser tests

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pdf_server(binary_samples: BinarySamples, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over a folder holding the sample PDF."""
    root = tmp_path_factory.mktemp("browser_pages")
    (root / "docs").mkdir()
    shutil.copy(binary_samples.feature_pdf, root / "docs" / "sample.pdf")
    settings = Settings(_env_file=None, corpus=root / "docs", index_dir=root / "index", model="fake")
    with serve(settings) as base:
        yield base


@pytest.fixture
def pdf_page(browser: Browser, pdf_server: str) -> Iterator[Page]:
    with start_page(browser, pdf_server) as opened:
        yield opened


def test_a_pdf_hit_shows_its_page_and_opens_the_pdf_there(pdf_page: Page, binary_samples: BinarySamples) -> None:
    search(pdf_page, binary_docs.SPANNING)
    hit = pdf_page.get_by_test_id("hit").first
    expect(hit.get_by_test_id("cited")).to_have_text(binary_docs.SPANNING)
    expect(hit.get_by_test_id("page")).to_have_text("p. 1")
    link = hit.get_by_test_id("open-file")
    assert link.get_attribute("href") == "/v1/documents/sample.pdf/file#page=1"
    assert link.get_attribute("target") == "_blank"
    reply = pdf_page.request.get(str(link.get_attribute("href")).split("#")[0])
    assert reply.status == 200 and reply.headers["content-type"] == "application/pdf"
    assert reply.body() == Path(binary_samples.feature_pdf).read_bytes()
    shot(pdf_page, "pdf-hit")


def test_the_document_view_marks_the_pages(pdf_page: Page) -> None:
    search(pdf_page, binary_docs.TABLE[1][0])
    hit = pdf_page.get_by_test_id("hit").first
    expect(hit.get_by_test_id("page")).to_have_text("p. 2")
    hit.get_by_test_id("open-doc").click()
    markers = pdf_page.get_by_test_id("page-marker")
    expect(markers).to_have_count(3)
    expect(markers.nth(1)).to_have_text("p. 2")
    target = pdf_page.get_by_test_id("doc-target")
    expect(target).to_have_text(binary_docs.TABLE[1][0])
    assert (
        pdf_page.evaluate(
            """() => {
          const target = document.getElementById("target");
          const markers = [...document.querySelectorAll('[data-testid="page-marker"]')];
          return markers.filter((m) => m.compareDocumentPosition(target) & Node.DOCUMENT_POSITION_FOLLOWING).length;
        }"""
        )
        == 2
    ), "the cited cell sits after the second page's marker"
    expect(pdf_page.get_by_test_id("doc-file")).to_have_attribute("href", "/v1/documents/sample.pdf/file#page=2")
    shot(pdf_page, "pdf-document")
