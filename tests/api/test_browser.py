"""The web page in headless Chromium, against the real app, model and seed corpus.

The server runs in a background thread on a free localhost port; the first start builds the
seed index (a few minutes on two cores). Chromium is Debian's (`make test` installs it);
Playwright never downloads a browser here. Each step leaves a screenshot under
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect, sync_playwright

from api.app import create_app
from qa.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
READY_TIMEOUT_S = 300
ANSWER_TIMEOUT_MS = 30_000

QUESTION = "U创空间2017年的产值是多少？"
DEEP_QUESTION = "到2027年渝中区全区算力规模要达到多少？"  # cited far down a long document
CLAIM = "到2027年，渝中区全区算力规模达到2100PFLOPS。"
#: Makes every request of the page wait a second, so that its loading state can be seen.
SLOW_FETCH = """() => {
  const fetchNow = window.fetch;
  window.fetch = (...args) => new Promise((resolve) => setTimeout(() => resolve(fetchNow(...args)), 1000));
}"""

pytestmark = [pytest.mark.browser, pytest.mark.model]


# ---------------------------------------------------------------- the server and the browser


def _wait_ready(base: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if not thread.is_alive():
            pytest.fail("the server stopped while starting (see the log above)", pytrace=False)
        try:
            reply = httpx.get(f"{base}/readyz", timeout=5)
            if reply.status_code == 200 and reply.json().get("status") == "ready":
                return
        except httpx.TransportError:
            pass  # not listening yet: the index is being built
        time.sleep(0.5)
    pytest.fail(f"the server was not ready within {READY_TIMEOUT_S} s", pytrace=False)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app over the seed corpus on a free port; its base URL."""
    settings = Settings(_env_file=None, corpus=SEEDS, index_dir=tmp_path_factory.mktemp("browser") / "index")
    with serve(settings) as base:
        yield base


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """The app with these settings, served on a free localhost port in a thread; its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, thread)
        yield base
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; missing, it fails the tests (it is not optional)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium before the tests",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def new_context(browser: Browser, server: str, **options: object) -> BrowserContext:
    settings: dict[str, object] = {
        "base_url": server,
        "locale": "en-US",
        "viewport": {"width": 1280, "height": 900},
        "permissions": ["clipboard-read", "clipboard-write"],
        **options,
    }
    return browser.new_context(**settings)  # type: ignore[arg-type]


def watch_errors(page: Page) -> list[str]:
    """Uncaught script errors and Content-Security-Policy violations of the page, as they come."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            errors.append(message.text)

    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on("console", on_console)
    return errors


@contextmanager
def start_page(browser: Browser, base: str) -> Iterator[Page]:
    """A fresh page (own storage, English browser) on the start page at ``base``; no page error may occur."""
    context = new_context(browser, base)
    opened = context.new_page()
    errors = watch_errors(opened)
    opened.goto("/")
    yield opened
    context.close()
    assert not errors, errors


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    """A fresh page on the app's start page."""
    with start_page(browser, server) as opened:
        yield opened


# ---------------------------------------------------------------- helpers


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def search(page: Page, text: str, mode: str = "ask") -> None:
    """Type into the search box in a mode, press Enter and wait for the results (failing on an error shown)."""
    page.get_by_test_id(f"mode-{mode}").check()
    box = page.get_by_test_id("query")
    box.fill(text)
    box.press("Enter")
    settled = page.locator('[data-testid="results"] > *, [data-testid="error"]:not([hidden])').first
    expect(settled).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(page.get_by_test_id("status")).to_be_hidden(timeout=ANSWER_TIMEOUT_MS)
    error = page.get_by_test_id("error")
    if error.is_visible():
        pytest.fail(f"the page shows an error: {error.text_content()}", pytrace=False)


def original(source: str) -> str:
    return (SEEDS / source).read_text(encoding="utf-8")


def no_horizontal_overflow(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def expected_citation(hit: dict[str, object], style: str) -> str:
    """What the copy button must copy: the style's citation, else ``source:line``."""
    citation = hit.get("citation")
    if isinstance(citation, dict) and citation.get(style):
        return str(citation[style])
    return f"{hit['source']}:{hit['line']}"


# ---------------------------------------------------------------- the tests


def test_chromium_is_installed() -> None:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium"


def test_ask_highlights_the_cited_sentence(page: Page) -> None:
    search(page, QUESTION)
    hit = page.get_by_test_id("hit").first
    cited = hit.get_by_test_id("cited")
    expect(cited).to_have_count(1)
    sentence = cited.text_content() or ""
    assert "2.5亿元" in sentence
    source, start, end = (hit.get_attribute(a) or "" for a in ("data-source", "data-start", "data-end"))
    assert original(source)[int(start) : int(end)] == sentence
    paragraph = hit.locator(".paragraph").text_content() or ""
    assert sentence in paragraph and len(paragraph) > len(sentence)  # the sentence within its paragraph
    expect(hit.get_by_test_id("loc")).to_contain_text(f"{source}:")
    expect(page.get_by_test_id("answer")).to_contain_text("2.5亿元")
    shot(page, "ask")


def test_claim_with_a_wrong_number_is_a_mismatch(page: Page, server: str) -> None:
    search(page, CLAIM, mode="cite")
    badge = page.get_by_test_id("verdict")
    expect(badge).to_have_attribute("data-verdict", "mismatch")
    expect(badge).to_have_text("Mismatch")
    claim_marks = page.get_by_test_id("claim-diff").all_text_contents()
    assert any("2100" in m for m in claim_marks), claim_marks
    hit = page.get_by_test_id("hit").first
    source_marks = hit.get_by_test_id("source-diff").all_text_contents()
    assert any("1200" in m for m in source_marks), source_marks
    expect(hit.get_by_test_id("source-verdict")).to_have_attribute("data-verdict", "mismatch")
    supported = httpx.post(f"{server}/v1/cite", json={"claim": CLAIM}, timeout=60).json()["supported"]
    expect(page.get_by_test_id("no-support")).to_have_count(0 if supported else 1)
    shot(page, "claim")


def test_copy_puts_the_citation_on_the_clipboard(page: Page, server: str) -> None:
    top = httpx.post(f"{server}/v1/ask", json={"question": QUESTION, "top_k": 5}, timeout=60).json()["hits"][0]
    search(page, QUESTION)
    for style in ("gbt7714", "apa", "plain"):
        page.get_by_test_id("style").select_option(style)
        hit = page.get_by_test_id("hit").first
        expect(hit.get_by_test_id("citation")).to_have_text(expected_citation(top, style))
        hit.get_by_test_id("copy").click()
        expect(hit.get_by_test_id("copied")).to_be_visible()
        expect(hit.get_by_test_id("copied")).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == expected_citation(top, style)
        if style == "gbt7714":
            shot(page, "copy", full_page=False)


@pytest.mark.parametrize("question", [QUESTION, DEEP_QUESTION], ids=["short-doc", "long-doc"])
def test_document_view_shows_the_cited_sentence(page: Page, question: str) -> None:
    search(page, question)
    hit = page.get_by_test_id("hit").first
    sentence = hit.get_by_test_id("cited").text_content()
    source = hit.get_attribute("data-source") or ""
    hit.get_by_test_id("open-doc").click()
    view = page.get_by_test_id("doc-view")
    expect(view).to_be_visible()
    target = page.get_by_test_id("doc-target")
    expect(target).to_be_visible()
    assert target.text_content() == sentence
    expect(target).to_be_in_viewport()
    assert page.get_by_test_id("doc-text").text_content() == original(source)
    assert "#doc=" in page.url
    shot(page, f"document-{'short' if question == QUESTION else 'long'}", full_page=False)

    page.go_back()  # the browser's back button: the results come back from memory
    expect(view).to_be_hidden()
    expect(page.get_by_test_id("hit").first.get_by_test_id("cited")).to_have_text(sentence or "")
    page.go_forward()
    expect(target).to_be_in_viewport()
    page.get_by_test_id("back").click()  # the page's own back link
    expect(view).to_be_hidden()
    expect(page.get_by_test_id("hit").first).to_be_visible()


def test_language_toggle_changes_the_labels(page: Page, browser: Browser, server: str) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "en")  # an English browser
    expect(page.get_by_test_id("submit")).to_have_text("Ask")
    search(page, QUESTION)
    expect(page.get_by_test_id("copy").first).to_have_text("Copy citation")

    page.get_by_test_id("lang").click()
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_test_id("submit")).to_have_text("提问")
    expect(page.get_by_test_id("copy").first).to_have_text("复制引用")
    expect(page.get_by_test_id("open-doc").first).to_have_text("在原文中查看")
    expect(page.locator("label", has=page.get_by_test_id("mode-cite"))).to_have_text("核对说法")
    expect(page.get_by_test_id("lang")).to_have_text("EN")
    shot(page, "language-zh")

    page.reload()  # the choice is kept
    expect(html).to_have_attribute("lang", "zh-CN")
    page.get_by_test_id("mode-cite").check()
    expect(page.get_by_test_id("submit")).to_have_text("核对")

    context = new_context(browser, server, locale="zh-CN")  # a Chinese browser starts in Chinese
    try:
        chinese = context.new_page()
        chinese.goto("/")
        expect(chinese.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(chinese.get_by_test_id("submit")).to_have_text("提问")
    finally:
        context.close()


def test_api_errors_and_loading_are_shown(page: Page) -> None:
    page.evaluate(SLOW_FETCH)
    box = page.get_by_test_id("query")
    box.fill("问" * 2001)  # over QA_MAX_QUESTION_CHARS
    box.press("Enter")
    expect(page.get_by_test_id("status")).to_be_visible()
    expect(page.get_by_test_id("status")).to_contain_text("Looking for sources")
    expect(page.get_by_test_id("submit")).to_be_disabled()
    error = page.get_by_test_id("error")
    expect(error).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(error).to_contain_text("invalid_request")
    expect(page.get_by_test_id("status")).to_be_hidden()
    expect(page.get_by_test_id("submit")).to_be_enabled()
    shot(page, "error")

    page.goto("/#doc=no%2Fsuch%20document.txt&start=0&end=5")
    expect(page.get_by_test_id("error")).to_contain_text("not_found")


@pytest.mark.parametrize("width", [375, 360])
def test_narrow_screen_has_no_horizontal_scroll(browser: Browser, server: str, width: int) -> None:
    context = new_context(browser, server, viewport={"width": width, "height": 740}, locale="zh-CN")
    try:
        page = context.new_page()
        errors = watch_errors(page)
        page.goto("/")
        assert no_horizontal_overflow(page)
        submit = page.get_by_test_id("submit").bounding_box()
        assert submit is not None and submit["height"] >= 40 and submit["width"] >= width / 2

        search(page, QUESTION)
        assert no_horizontal_overflow(page)
        shot(page, f"narrow-{width}-ask")

        search(page, CLAIM, mode="cite")
        assert no_horizontal_overflow(page)
        shot(page, f"narrow-{width}-claim")

        page.get_by_test_id("open-doc").first.click()
        expect(page.get_by_test_id("doc-target")).to_be_in_viewport()
        assert no_horizontal_overflow(page)
        shot(page, f"narrow-{width}-document", full_page=False)
        assert not errors, errors
    finally:
        context.close()
