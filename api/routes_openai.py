"""OpenAI-compatible ``POST /v1/chat/completions`` and ``GET /v1/models``: chat front-ends use the index as a model.

The assistant message is the extractive answer with [n] markers, then the numbered sources
(title, ``source:line``, the cited sentence); ``citations`` holds the full hits, then the
document metadata the answer cites (``/v1/chat``'s ``metadata_hits``, numbered after the hits).
Earlier user turns resolve follow-ups exactly as ``/v1/chat`` does.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import TypeAdapter

from api.deps import CurrentEngine, State
from api.errors import RequestError, error_responses
from api.routes_ask import answer_conversation
from api.schemas import HitModel, MetadataHitModel
from api.schemas_openai import (
    AssistantMessage,
    ChatCompletion,
    Choice,
    CompletionRequest,
    ModelCard,
    ModelList,
    OpenAIError,
)
from qa.text import has_han

router = APIRouter(prefix="/v1", tags=["openai"])

_LABELS = {
    "en": ("Sources:", "No source in the index answers this; the closest sentences:"),
    "zh": ("来源：", "索引中没有回答这个问题的出处；最接近的句子："),
}
#: how a metadata citation names its field, and the text stating it in the answer
_FIELDS = {
    "en": ({"date": "date", "publisher": "publisher", "author": "author"}, "The {field} of {title}: {value}"),
    "zh": ({"date": "日期", "publisher": "发布单位", "author": "作者"}, "《{title}》的{field}：{value}"),
}
_CITATIONS = TypeAdapter(list[HitModel | MetadataHitModel])
_STREAM = {
    "description": "With stream: true, server-sent events of chat.completion.chunk objects, then data: [DONE].",
    "content": {"text/event-stream": {}},
}


def _card(model: str) -> ModelCard:
    return ModelCard(id=model, created=0)


def model_not_found(model: str) -> JSONResponse:
    """404 in the OpenAI error shape."""
    error = {"message": f"the model {model!r} does not exist", "type": "invalid_request_error"}
    return JSONResponse({"error": {**error, "param": "model", "code": "model_not_found"}}, status_code=404)


@router.get("/models", response_model=ModelList, summary="The models (one per served index), OpenAI-style")
def models(state: State) -> ModelList:
    """The model id that names the served index in chat completions (``QA_SERVED_MODEL``)."""
    return ModelList(data=[_card(state.settings.served_model)])


@router.get("/models/{model}", response_model=ModelCard, summary="One model", responses={404: {"model": OpenAIError}})
def model(model: str, state: State) -> ModelCard | JSONResponse:
    """The model card, or 404 in the OpenAI error shape."""
    return _card(model) if model == state.settings.served_model else model_not_found(model)


def numbered_sources(reply: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The numbered sources of a ``/v1/chat`` reply: its hits, then its metadata hits ([n] is the n-th)."""
    return [*reply["hits"], *reply.get("metadata_hits", [])]


def chat_text(reply: Mapping[str, Any]) -> str:
    """The assistant message: the answer with [n] markers, then each source numbered with its title and place.

    Asked document metadata that the text states nowhere comes first, citing its metadata source.
    """
    language = "zh" if has_han(str(reply["question"])) else "en"
    sources, none_found = _LABELS[language]
    names, stated = _FIELDS[language]
    facts, lines = [], []
    for number, cited in enumerate(numbered_sources(reply), 1):
        if cited.get("kind") == "metadata":
            field = names[cited["field"]]
            facts.append(stated.format(field=field, title=cited["title"], value=cited["value"]) + f"[{number}]")
            lines.append(f"[{number}] {cited['title']} ({cited['source']}, {field}): {cited['value']}")
        else:
            lines.append(f"[{number}] {cited['title']} ({cited['source']}:{cited['line']}): {cited['text']}")
    answer = none_found if reply["no_answer"] else str(reply["answer"])
    return "\n\n".join([*facts, answer, sources, *lines])


def _chunk(base: Mapping[str, object], delta: dict[str, str], finish: str | None = None, **extra: object) -> str:
    event = {**base, "object": "chat.completion.chunk", **extra}
    event["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish}]
    return f"data: {json.dumps(event, ensure_ascii=False)}\n\n"


def stream_events(base: Mapping[str, object], text: str, citations: list[Any]) -> Iterator[str]:
    """The reply as SSE chunks: the role (with the citations), the text a paragraph at a time, the stop, [DONE]."""
    yield _chunk(base, {"role": "assistant", "content": ""}, citations=citations)
    paragraphs = text.split("\n\n")
    for number, paragraph in enumerate(paragraphs):
        yield _chunk(base, {"content": paragraph + ("\n\n" if number + 1 < len(paragraphs) else "")})
    yield _chunk(base, {}, "stop")
    yield "data: [DONE]\n\n"


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    summary="OpenAI-compatible chat: the cited answer to the last user message",
    responses={
        200: _STREAM,
        404: {"model": OpenAIError, "description": "Unknown model"},
        **error_responses(400, 422, 503),
    },
)
def completions(body: CompletionRequest, state: State, engine: CurrentEngine) -> Any:
    """Answer the last user message like ``/v1/chat``; ``model`` must be the served index's id.

    Nothing is generated: the content is the extractive answer citing [n], then the sources.
    Sampling options are ignored; ``stream: true`` sends the same content as chunks.
    """
    if body.model != state.settings.served_model:
        return model_not_found(body.model)
    turns = [m.text() for m in body.messages if m.role == "user"]
    blank = next((n for n, turn in enumerate(turns, 1) if not turn.strip()), None)
    if blank is not None:
        raise RequestError(f"user message {blank} holds no text")
    reply = answer_conversation(state, engine, turns, body.top_k)
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": body.model}
    text, cited = chat_text(reply), numbered_sources(reply)
    if body.stream:
        sources = _CITATIONS.dump_python(_CITATIONS.validate_python(cited), mode="json")
        return StreamingResponse(stream_events(base, text, sources), media_type="text/event-stream")
    message = Choice(message=AssistantMessage(content=text))
    return ChatCompletion.model_validate({**base, "choices": [message], "citations": cited})
