"""Errors of the HTTP layer, and the handlers that give every error one JSON shape.

Every error response is ``{"error": {"code": ..., "message": ...}}``: domain errors (QAError
and its subclasses) keep their own ``code`` and ``status``; request validation errors become
422 ``invalid_request``; routing errors (unknown path, wrong method) keep their status.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import ErrorResponse
from qa.errors import QAError

log = logging.getLogger(__name__)


class RequestError(QAError):
    """A request that breaks a limit or a rule of the API (a question too long, a span outside the text)."""

    code = "invalid_request"
    status = 422


class ConflictError(QAError):
    """A write that clashes with the index (a document id that already exists)."""

    code = "conflict"
    status = 409


class UnauthorizedError(QAError):
    """A write without the right API key."""

    code = "unauthorized"
    status = 401


class WritesDisabledError(QAError):
    """A write to a server that has no API key configured."""

    code = "writes_disabled"
    status = 403


class PayloadTooLargeError(QAError):
    """A request body over the configured size limit."""

    code = "too_large"
    status = 413


class UnsupportedMediaTypeError(QAError):
    """An upload of a type the endpoint does not read."""

    code = "unsupported_media_type"
    status = 415


class NotReadyError(QAError):
    """A request that needs the index before it is loaded."""

    code = "not_ready"
    status = 503


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """The JSON error body every failure shares."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request"
    parts = []
    for error in errors[:3]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid")))
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more


def _http_code(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def install_error_handlers(app: FastAPI) -> None:
    """Map every error the app can raise to the shared JSON body."""

    @app.exception_handler(QAError)
    async def domain_error(_: Request, exc: QAError) -> JSONResponse:
        return error_response(exc.status, exc.code, str(exc) or exc.code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_request", _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = error_response(exc.status_code, _http_code(exc.status_code), str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def unexpected_error(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(500, "internal_error", "internal server error")


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI descriptions of error responses with the shared body."""
    return {s: {"model": ErrorResponse, "description": HTTPStatus(s).phrase} for s in statuses}
