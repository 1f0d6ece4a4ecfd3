"""``POST /v1/batch``: a question set in (JSONL, CSV or text), JSON lines of ranked citations out, streamed."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile

from api.deps import State, check_top_k
from api.errors import RequestError, UnsupportedMediaTypeError, error_responses
from qa.engine import Engine
from qa.errors import InputError
from qa.runs import Question, answer_records, parse_questions

router = APIRouter(prefix="/v1", tags=["batch"])

Format = Literal["jsonl", "csv", "txt"]
_BODY_TYPES: dict[str, Format | None] = {
    "": None,
    "text/plain": None,
    "text/csv": "csv",
    "application/csv": "csv",
    "application/jsonl": "jsonl",
    "application/jsonlines": "jsonl",
    "application/x-jsonlines": "jsonl",
    "application/x-ndjson": "jsonl",
}
_FILE_TYPES = {*_BODY_TYPES, "application/octet-stream"}
_SUFFIXES: dict[str, Format] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".txt": "txt"}
_REQUEST_BODY = {
    "description": "A question set: JSONL (id, question), CSV with a question column, or one question a line.",
    "content": {
        "text/plain": {"schema": {"type": "string"}, "example": "U创空间2017年的产值是多少？\n"},
        "text/csv": {"schema": {"type": "string"}, "example": "id,question\nq1,U创空间2017年的产值是多少？\n"},
        "application/x-ndjson": {"schema": {"type": "string"}},
        "multipart/form-data": {
            "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
        },
    },
}
_STREAM = {
    "description": 'One JSON line per question: {"id", "question", "hits"}.',
    "content": {"application/x-ndjson": {}},
}


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


async def read_upload(request: Request) -> tuple[str, str, Format | None]:
    """(text, name, format) of an uploaded question set: a multipart ``file`` field or the raw body."""
    media = _media_type(request.headers.get("content-type"))
    if media == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise RequestError('a multipart upload needs its question set in a "file" field')
        file_type = _media_type(upload.content_type)
        if file_type not in _FILE_TYPES:
            raise UnsupportedMediaTypeError(f"cannot read a {file_type!r} file: send JSONL, CSV or plain text")
        name = upload.filename or "upload"
        fmt = _SUFFIXES.get(PurePosixPath(name).suffix.lower()) or _BODY_TYPES.get(file_type)
        data = await upload.read()
    elif media in _BODY_TYPES:
        name, fmt, data = "upload", _BODY_TYPES[media], await request.body()
    else:
        raise UnsupportedMediaTypeError(f"cannot read {media!r}: send JSONL, CSV or plain text (or a multipart file)")
    if b"\x00" in data:
        raise UnsupportedMediaTypeError(f"{name}: binary data, not a question set")
    try:
        return data.decode("utf-8"), name, fmt
    except UnicodeDecodeError:
        raise InputError(f"{name}: not UTF-8 text") from None


def result_lines(engine: Engine, questions: Sequence[Question], top_k: int) -> Iterator[str]:
    """One JSON line per question, the same record as ``qa batch`` writes, answered a group at a time."""
    for record in answer_records(questions, engine.ask_many, top_k):
        yield json.dumps(record, ensure_ascii=False) + "\n"


@router.post(
    "/batch",
    summary="Answer an uploaded question set; results stream back as JSON lines",
    response_class=StreamingResponse,
    responses={200: _STREAM, **error_responses(400, 413, 415, 422, 503)},
    openapi_extra={"requestBody": _REQUEST_BODY},
)
async def batch(
    request: Request,
    state: State,
    top_k: Annotated[int, Query(ge=1, description="Hits per question.")] = 10,
    fmt: Annotated[Format | None, Query(alias="format", description="Question set format (default: guessed).")] = None,
) -> StreamingResponse:
    """Upload a question set (raw body or multipart ``file``); get ``{"id", "question", "hits"}`` per line.

    Hits follow the ``qa batch`` contract (rank, score, source, start, end, text, ...). The
    whole set is checked before the first line is sent; lines then arrive as groups of
    questions are answered.
    """
    check_top_k(state, top_k)
    text, name, guessed = await read_upload(request)
    questions = parse_questions(text, name, fmt or guessed)
    if not questions:
        raise InputError(f"{name}: no questions found")
    limit = state.settings.max_question_chars
    for q in questions:
        if len(q.question) > limit:
            raise RequestError(f"question {q.id!r} has {len(q.question)} characters; the limit is {limit}")
    return StreamingResponse(result_lines(state.engine, questions, top_k), media_type="application/x-ndjson")
