"""The OpenAPI schema as this server runs it: limits that are settings (QA_MAX_QUESTION_CHARS,
QA_MAX_TOP_K) are written into the schema, so what it allows is what the server accepts."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from qa.settings import Settings

#: The JSON Schema keyword each limit setting fills in, for a schema node marked ``"x-limit": setting``.
_KEYWORDS = {"max_question_chars": "maxLength", "max_top_k": "maximum"}


def _fill_limits(node: Any, settings: Settings) -> None:
    if isinstance(node, dict):
        setting = node.pop("x-limit", None)
        if setting is not None:
            node[_KEYWORDS[setting]] = getattr(settings, setting)
        for value in node.values():
            _fill_limits(value, settings)
    elif isinstance(node, list):
        for value in node:
            _fill_limits(value, settings)


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Serve ``/openapi.json`` with this server's limits filled in."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            _fill_limits(schema, settings)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
