"""The web page: ``GET /`` serves the single-page app, ``/static/`` its script and style sheet.

Everything the page needs is served from the package folder ``api/static``; it loads nothing
from elsewhere, and its Content-Security-Policy forbids it to.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"

#: Same-origin scripts, styles, images and API calls only; no inline code, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    """The page (search, claim check, document view)."""
    return FileResponse(
        STATIC_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
        },
    )


def install(app: FastAPI) -> None:
    """Serve ``api/static`` under ``/static/`` (a mount, which a router cannot carry)."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
