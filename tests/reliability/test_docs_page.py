"""`/docs` loads Swagger UI from this server, under the same Content-Security-Policy as the web page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import sync_playwright

from tests.reliability.reliability_app import make_app, serving

CHROMIUM = "/usr/bin/chromium"


def test_docs_are_served_locally_under_the_page_csp(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == client.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http://" not in page.text and "https://" not in page.text
    assert "<script>" not in page.text  # no inline code: the CSP forbids it
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', page.text)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert client.get("/redoc").status_code == 404  # ReDoc would load from a CDN: not served


@pytest.mark.browser
def test_swagger_ui_renders_offline_without_csp_violations(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    with serving(app, app.state.qa.settings) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
        page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("request", lambda r: problems.append(r.url) if not r.url.startswith(base) else None)
        page.goto(f"{base}/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=20_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        browser.close()
    assert "/v1/ask" in " ".join(paths)
    assert not problems, problems
