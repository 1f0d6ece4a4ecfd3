"""Errors of the HTTP layer, and the handlers that give every error one JSON shape.

Every error response is ``{"error": {"code": ..., "message": ...}}``: domain errors (QAError
and its subclasses) keep their own ``code`` and get the status of :data:`STATUS` (the one place
that maps error classes to HTTP statuses); request validation errors become 422
``invalid_request``; routing errors (unknown path, wrong method) keep their status.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.schemas import NOT_BLANK, ErrorResponse
from qa.errors import IndexBackendError, IndexMismatchError, InputError, NotFoundError, QAError

log = logging.getLogger(__name__)


class RequestError(QAError):
    """A request that breaks a limit or a rule of the API (a question too long, a span outside the text)."""

    code = "invalid_request"


class ConflictError(QAError):
    """A write that clashes with the index (a document id that already exists)."""

    code = "conflict"


class UnauthorizedError(QAError):
    """A write without the right API key."""

    code = "unauthorized"


class WritesDisabledError(QAError):
    """A write to a server that has no API key configured."""

    code = "writes_disabled"


class PayloadTooLargeError(QAError):
    """A request body over the configured size limit."""

    code = "too_large"


class UnsupportedMediaTypeError(QAError):
    """An upload of a type the endpoint does not read."""

    code = "unsupported_media_type"


class NotReadyError(QAError):
    """A request that needs the index before it is loaded."""

    code = "not_ready"


#: HTTP status of each error class; a subclass takes the status of its nearest listed ancestor.
STATUS: dict[type[Exception], int] = {
    InputError: 400,
    UnauthorizedError: 401,
    WritesDisabledError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    IndexMismatchError: 409,
    PayloadTooLargeError: 413,
    UnsupportedMediaTypeError: 415,
    RequestError: 422,
    NotReadyError: 503,
    IndexBackendError: 503,
}
#: Error classes of the library that say the index changed or clashes with the request, by name.
_CONFLICT_NAMES = ("Conflict", "IndexChanged")


def status_of(exc: Exception) -> int:
    """The HTTP status of a domain error: from :data:`STATUS`, 409 for a conflict, else 400."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
        if any(name in cls.__name__ for name in _CONFLICT_NAMES):
            return 409
    return 400


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """The JSON error body every failure shares."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


#: What a failed pattern of the request schemas means, in words.
_PATTERN_MESSAGES = {NOT_BLANK: "is empty (only whitespace)"}


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request"
    parts = []
    for error in errors[:3]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        pattern = (error.get("ctx") or {}).get("pattern")
        message = _PATTERN_MESSAGES.get(str(pattern), str(error.get("msg", "invalid")))
        parts.append(f"{where}: {message}" if where else message)
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more


def _http_code(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path (the router's 405 names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    """Map every error the app can raise to the shared JSON body."""

    @app.exception_handler(QAError)
    async def domain_error(_: Request, exc: QAError) -> JSONResponse:
        return error_response(status_of(exc), exc.code, str(exc) or exc.code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_request", _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = error_response(exc.status_code, _http_code(exc.status_code), str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response

    @app.exception_handler(Exception)
    async def unexpected_error(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(500, "internal_error", "internal server error")


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI descriptions of error responses with the shared body."""
    return {s: {"model": ErrorResponse, "description": HTTPStatus(s).phrase} for s in statuses}
