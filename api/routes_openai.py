"""OpenAI-compatible ``POST /v1/chat/completions`` and ``GET /v1/models``: chat front-ends use the index as a model.

The assistant message is the extractive answer with [n] markers, then the numbered sources
(title, ``source:line``, the cited sentence); ``citations`` holds the full hits. Earlier user
turns resolve follow-ups exactly as ``/v1/chat`` does.
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

from api.deps import CurrentEngine, State, check_question
from api.errors import RequestError, error_responses
from api.routes_ask import answer_conversation
from api.schemas import HitModel
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
_CITATIONS = TypeAdapter(list[HitModel])
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


def chat_text(reply: Mapping[str, Any]) -> str:
    """The assistant message: the answer with [n] markers, then each hit numbered with its title, place and sentence."""
    sources, none_found = _LABELS["zh" if has_han(str(reply["question"])) else "en"]
    parts = [none_found if reply["no_answer"] else str(reply["answer"]), sources]
    for hit in reply["hits"]:
        parts.append(f"[{hit['rank']}] {hit['title']} ({hit['source']}:{hit['line']}): {hit['text']}")
    return "\n\n".join(parts)


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
    responses={200: _STREAM, 404: {"model": OpenAIError, "description": "Unknown model"}, **error_responses(422, 503)},
)
def completions(body: CompletionRequest, state: State, engine: CurrentEngine) -> Any:
    """Answer the last message (from the user) like ``/v1/chat``; ``model`` must be the served index's id.

    Nothing is generated: the content is the extractive answer citing [n], then the sources.
    Sampling options are ignored; ``stream: true`` sends the same content as chunks.
    """
    if body.model != state.settings.served_model:
        return model_not_found(body.model)
    if body.messages[-1].role != "user":
        raise RequestError("the last message must come from the user")
    check_question(state, body.messages[-1].text())
    turns = [t for t in (m.text() for m in body.messages if m.role == "user") if t.strip()]
    reply = answer_conversation(state, engine, turns, body.top_k)
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": body.model}
    text = chat_text(reply)
    if body.stream:
        citations = _CITATIONS.dump_python(_CITATIONS.validate_python(reply["hits"]), mode="json")
        return StreamingResponse(stream_events(base, text, citations), media_type="text/event-stream")
    message = Choice(message=AssistantMessage(content=text))
    return ChatCompletion.model_validate({**base, "choices": [message], "citations": reply["hits"]})
