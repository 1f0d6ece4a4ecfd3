"""``POST /v1/ask`` and ``POST /v1/chat``: cited answers to one question or to a conversation's last turn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from fastapi import APIRouter

from api.deps import CurrentEngine, State, check_question, check_top_k
from api.errors import RequestError, error_responses
from api.schemas import AskRequest, AskResponse, ChatRequest, ChatResponse, Filters
from api.state import AppState
from qa.engine import Engine
from qa.search import Hit, compose, resolve_conversation

router = APIRouter(prefix="/v1", tags=["questions"])

#: Hits fetched per hit shown when some of them will be filtered out or reordered.
_WIDEN = 10
_MIN_POOL = 100
#: Hits of the previous question whose documents a follow-up prefers.
_PREVIOUS_HITS = 3


def _pool(top_k: int, narrowed: bool) -> int:
    return max(top_k * _WIDEN, _MIN_POOL) if narrowed else top_k


def _keep(hit: Hit, filters: Filters) -> bool:
    sources = filters.sources()
    if sources is not None and hit.chunk.source not in sources:
        return False
    if filters.date_from is None and filters.date_to is None:
        return True
    if not hit.date:
        return False
    return (filters.date_from is None or hit.date >= filters.date_from.isoformat()) and (
        filters.date_to is None or hit.date <= filters.date_to.isoformat()
    )


def _narrowed(engine: Engine, filters: Filters | None) -> Engine:
    """The engine searching within ``filters`` where its index can (the hits are filtered anyway)."""
    if filters is None:
        return engine
    dates = [None if d is None else d.isoformat() for d in (filters.date_from, filters.date_to)]
    return engine.narrowed(filters.sources(), dates[0], dates[1])


def _reply(
    state: State,
    question: str,
    found: tuple[Sequence[Hit], bool | None],
    top_k: int,
    filters: Filters | None,
    asked: str | None = None,
) -> dict[str, object]:
    """Filter, cut to ``top_k``, renumber and compose the answer (``asked``: the question searched, if another).

    The answerability verdict covers the whole index, so filtered hits fall back to the cosine rule.
    """
    hits, unanswerable = found
    kept = [h for h in hits if filters is None or _keep(h, filters)][:top_k]
    ranked = [h if h.rank == i else replace(h, rank=i) for i, h in enumerate(kept, 1)]
    verdict = unanswerable if filters is None else None
    return compose(question, ranked, state.settings.no_answer_cosine, no_answer=verdict, asked=asked).as_dict()


@router.post(
    "/ask",
    response_model=AskResponse,
    summary="Ask a question; get the source sentences that answer it",
    responses=error_responses(400, 413, 422, 503),
)
def ask(body: AskRequest, state: State, engine: CurrentEngine) -> AskResponse:
    """Rank the index's sentences for the question and compose a short extractive answer citing them.

    Every hit cites ``original[start:end]`` of document ``source``. ``filters`` keep hits from
    some documents or from documents dated within a range; ``no_answer`` is true when no
    sentence is close enough to count as a source (the hits are then the closest ones).
    """
    check_question(state, body.question)
    check_top_k(state, body.top_k)
    [found] = _narrowed(engine, body.filters).ask_checked([body.question], _pool(body.top_k, body.filters is not None))
    return AskResponse.model_validate(_reply(state, body.question, found, body.top_k, body.filters))


@router.post(
    "/chat",
    response_model=ChatResponse,
    summary="Answer the last user message of a conversation, resolving follow-ups",
    responses=error_responses(400, 413, 422, 503),
)
def chat(body: ChatRequest, state: State, engine: CurrentEngine) -> ChatResponse:
    """Answer the last user message, like ``/v1/ask`` (later assistant or system messages are context only).

    The server keeps no conversation: send every turn. A follow-up (它2021年的税收是多少？) is
    completed from the previous user question (梦想小街产业园2021年的税收是多少？), and hits from the
    documents that answered the previous question come first. ``query`` tells what was searched.
    """
    turns = [m.content for m in body.messages if m.role == "user"]
    return ChatResponse.model_validate(answer_conversation(state, engine, turns, body.top_k, body.filters))


def answer_conversation(
    state: AppState, engine: Engine, turns: list[str], top_k: int, filters: Filters | None = None
) -> dict[str, Any]:
    """The reply to the last of a conversation's user turns, follow-ups resolved (``/v1/chat``'s body)."""
    if not turns:  # the schema says so too ("contains")
        raise RequestError("the conversation needs a message from the user")
    for number, turn in enumerate(turns, 1):
        check_question(state, turn, f"user message {number}")
    check_top_k(state, top_k)
    resolved = resolve_conversation(turns)
    pool = _pool(top_k, resolved.follow_up or filters is not None)
    engine = _narrowed(engine, filters)
    if resolved.previous is None:
        [(hits, unanswerable)] = engine.ask_checked([resolved.query], pool)
    else:
        (previous_hits, _), (hits, unanswerable) = engine.ask_checked([resolved.previous, resolved.query], pool)
        preferred = {h.chunk.source for h in previous_hits[:_PREVIOUS_HITS]}
        hits = sorted(hits, key=lambda h: h.chunk.source not in preferred)  # stable: keeps the ranking within
    reply = _reply(state, turns[-1], (hits, unanswerable), top_k, filters, resolved.query)
    return {**reply, "query": resolved.query, "follow_up": resolved.follow_up}
