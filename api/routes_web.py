"""The web page: ``GET /`` serves the single-page app, ``/static/`` its script and style sheet;
``GET /docs`` serves the interactive API docs (Swagger UI 5, as the fastapi-offline package ships it).

Everything either page needs is served from this server (``api/static`` and the Swagger UI
assets); they load nothing from elsewhere, and their Content-Security-Policy forbids it to.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
#: Swagger UI's script and style sheet (OpenAPI 3.1, as FastAPI writes it, needs Swagger UI 5).
SWAGGER_UI_DIR = Path(fastapi_offline.__file__).parent / "static"

#: Same-origin scripts, styles, images and API calls only; no inline code, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)


_PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    """The page (search, claim check, document view)."""
    return _page("index.html")


@router.get("/docs", include_in_schema=False)
def docs() -> FileResponse:
    """Swagger UI over ``/openapi.json``, every asset served from here."""
    return _page("docs.html")


def install(app: FastAPI) -> None:
    """Serve ``api/static`` under ``/static/`` and the Swagger UI assets under ``/docs/assets/`` (mounts,
    which a router cannot carry)."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/docs/assets", StaticFiles(directory=SWAGGER_UI_DIR), name="docs-assets")
