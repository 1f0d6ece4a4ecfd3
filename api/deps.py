"""Request dependencies: the shared state, the engine a request answers with, the write guard, limits."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.errors import RequestError, UnauthorizedError, WritesDisabledError
from api.state import AppState
from qa.engine import Engine

_API_KEY = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="Required by write endpoints (the server's QA_API_KEY)."
)
_BEARER = HTTPBearer(auto_error=False, description="The server's QA_API_KEY as a bearer token (OpenAI clients).")


def get_state(request: Request) -> AppState:
    """The app's shared state."""
    state: AppState = request.app.state.qa
    return state


State = Annotated[AppState, Depends(get_state)]


def get_engine(state: State) -> Engine:
    """The engine current when the request started; the request keeps it even if a write swaps it."""
    return state.engine


CurrentEngine = Annotated[Engine, Depends(get_engine)]


def require_api_key(
    state: State,
    key: Annotated[str | None, Security(_API_KEY)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)],
) -> None:
    """Let a write through only with the configured key, in X-API-Key or as a bearer token (off when none is set)."""
    expected = state.settings.api_key
    if not expected:
        raise WritesDisabledError("writes are disabled on this server: start it with QA_API_KEY set to enable them")
    key = key if key is not None else bearer.credentials if bearer is not None else None
    if key is None or not hmac.compare_digest(key.encode("utf-8"), expected.encode("utf-8")):
        raise UnauthorizedError("a write needs the server's API key in the X-API-Key header (or Authorization: Bearer)")


def check_question(state: AppState, question: str, what: str = "question") -> None:
    """Refuse an empty question (or claim) or one over QA_MAX_QUESTION_CHARS."""
    if not question.strip():
        raise RequestError(f"the {what} is empty")
    limit = state.settings.max_question_chars
    if len(question) > limit:
        raise RequestError(f"the {what} has {len(question)} characters; the limit is {limit}")


def check_top_k(state: AppState, top_k: int) -> None:
    """Refuse a top_k over QA_MAX_TOP_K."""
    if not 1 <= top_k <= state.settings.max_top_k:
        raise RequestError(f"top_k must be between 1 and {state.settings.max_top_k}")
