"""The FastAPI application: the model and index are loaded once at start-up and shared by every request."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from api import routes_ask, routes_batch, routes_cite, routes_documents, routes_health, routes_openai, routes_web
from api.errors import install_error_handlers
from api.middleware import BodyLimitMiddleware
from api.state import AppState
from qa.engine import Engine
from qa.settings import Settings

DESCRIPTION = """\
Ask questions about a corpus and get back the exact source sentences: every hit cites
`original[start:end]` of a document. Errors are `{"error": {"code", "message"}}`.
Write endpoints need the `X-API-Key` header or `Authorization: Bearer` (the server's `QA_API_KEY`; without one,
writes are off).
"""
TAGS = [
    {"name": "questions", "description": "Cited answers to a question or a conversation."},
    {"name": "claims", "description": "Where a writer's claim comes from, and how faithful it is."},
    {"name": "documents", "description": "The indexed documents; writes update the index incrementally."},
    {"name": "batch", "description": "Question sets answered as a stream of JSON lines."},
    {"name": "openai", "description": "OpenAI-compatible chat completions, for chat front-ends and SDKs."},
    {"name": "health", "description": "Liveness and readiness probes."},
]


def _version() -> str:
    try:
        return metadata.version("chuchu")
    except metadata.PackageNotFoundError:
        return "0"


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app; ``engine`` (model + index) is used as given, else opened from ``settings`` at start-up."""
    settings = settings or Settings()
    state = AppState(settings)
    if engine is not None:
        state.start(engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if not state.ready:
            await run_in_threadpool(state.start, None, progress=sys.stderr.isatty())
        state.watch()
        try:
            yield
        finally:
            state.close()

    app = FastAPI(
        title="chuchu (出处)",
        summary="Citation-first retrieval Q&A",
        description=DESCRIPTION,
        version=_version(),
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.qa = state
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_upload_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Content-Type", "X-API-Key", "Authorization"],
        )
    routers = (routes_ask, routes_cite, routes_documents, routes_batch, routes_openai, routes_health, routes_web)
    for module in routers:
        app.include_router(module.router)
    routes_web.install(app)
    return app
