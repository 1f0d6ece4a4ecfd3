"""The web page's files as the server serves them (no browser, no model: nothing is loaded)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes_web import STATIC_DIR
from qa.settings import Settings

#: The hooks the browser tests (and anyone scripting the page) rely on.
TEST_IDS = [
    "query",
    "mode-ask",
    "mode-cite",
    "submit",
    "results",
    "hit",
    "cited",
    "verdict",
    "claim-diff",
    "source-diff",
    "copy",
    "copied",
    "style",
    "open-doc",
    "doc-view",
    "doc-target",
    "lang",
    "error",
    "no-support",
    "page",
    "open-file",
    "page-marker",
    "doc-file",
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    index_dir = tmp_path_factory.mktemp("web") / "none"
    return TestClient(create_app(Settings(_env_file=None, model="fake", index_dir=index_dir)))  # no lifespan


def static_files() -> list[Path]:
    return sorted(p for p in STATIC_DIR.iterdir() if p.is_file())


def test_the_page_links_its_script_and_style(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<script src="/static/app.js" defer></script>' in html
    assert '<link rel="stylesheet" href="/static/app.css">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy


def test_every_local_reference_of_the_page_is_served(client: TestClient) -> None:
    html = client.get("/").text
    references = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert len(references) == 2
    for reference in references:
        assert client.get(reference).status_code == 200, reference


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("app.js", "text/javascript"), ("app.css", "text/css"), ("index.html", "text/html")],
)
def test_static_files_have_their_content_types(client: TestClient, name: str, content_type: str) -> None:
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == content_type
    assert response.content == (STATIC_DIR / name).read_bytes()


def test_no_file_loads_anything_from_elsewhere() -> None:
    files = static_files()
    assert {p.name for p in files} >= {"index.html", "app.js", "app.css"}
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, path.name
        assert not re.search(r'(?:src|href)="//', text), path.name  # protocol-relative URLs


def test_the_script_never_parses_html() -> None:
    script = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink


@pytest.mark.parametrize("test_id", TEST_IDS)
def test_the_test_hooks_exist(test_id: str) -> None:
    sources = "".join(p.read_text(encoding="utf-8") for p in static_files())
    assert f'"{test_id}"' in sources, test_id


def test_unknown_and_escaping_paths_are_json_404s(client: TestClient) -> None:
    for path in ("/static/missing.js", "/static/%2e%2e/app.py", "/static/..%2fapp.py"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


def test_the_page_is_not_in_the_api_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert not any(p.startswith("/static") for p in paths)
