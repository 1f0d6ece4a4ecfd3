"""The FastAPI application: model and index loaded once, shared by every request."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse

from api.schemas import AskRequest, AskResponse, ChatRequest, DocumentDetail, DocumentSummary, ErrorResponse, Filters
from qa.answers import compose
from qa.engine import Engine, open_engine
from qa.errors import InputError, QAError
from qa.hits import Hit
from qa.questions import parse_questions
from qa.settings import Settings

_ANAPHOR = re.compile(r"它们|它|该|其|这个|那个|\b(?:it|its|they|their|this|that)\b", re.IGNORECASE)
_SUBJECT = re.compile(r"^\s*(.{2,24}?)(?:的|是|有|在|位于|将|要)")
_UPLOAD_TYPES = {"text/plain", "text/csv", "application/jsonl", "application/x-ndjson", "application/json"}


def resolve_follow_up(previous: list[str], question: str) -> str:
    """Make a follow-up question stand alone: its pronoun is replaced by the last question's subject."""
    if not previous or (not _ANAPHOR.search(question) and len(question) > 12):
        return question
    last = previous[-1].strip()
    match = _SUBJECT.match(last)
    subject = match.group(1) if match else last.rstrip("？?。！!")
    if _ANAPHOR.search(question):
        return _ANAPHOR.sub(subject, question, count=1)
    return f"{subject} {question}"


def _filtered(hits: list[Hit], filters: Filters | None) -> list[Hit]:
    if filters is None:
        return hits
    kept = [
        h
        for h in hits
        if (not filters.source or h.chunk.source in filters.source)
        and (not filters.date_from or (h.date or "") >= filters.date_from)
        and (not filters.date_to or (h.date or "9999") <= filters.date_to)
    ]
    return kept


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app; the engine (model + index) is opened at start-up unless one is given."""
    settings = settings or Settings()
    state: dict[str, Engine] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["engine"] = engine or open_engine(settings, progress=True)
        yield

    app = FastAPI(title="chuchu (出处)", version="1", lifespan=lifespan, responses={400: {"model": ErrorResponse}})
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"], allow_headers=["*"]
        )

    @app.exception_handler(QAError)
    async def domain_error(_: Request, exc: QAError) -> JSONResponse:
        return JSONResponse({"error": {"code": exc.code, "message": str(exc)}}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"msg": "invalid request", "loc": ()}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = f"{where}: {first['msg']}" if where else str(first["msg"])
        return JSONResponse({"error": {"code": "invalid_request", "message": message}}, status_code=422)

    def current() -> Engine:
        return state["engine"]

    def check(question: str, top_k: int) -> None:
        if len(question) > settings.max_question_chars:
            raise InputError(f"the question is longer than {settings.max_question_chars} characters")
        if top_k > settings.max_top_k:
            raise InputError(f"top_k is at most {settings.max_top_k}")

    def answer(eng: Engine, question: str, shown: str, top_k: int, filters: Filters | None) -> AskResponse:
        want = top_k * 5 if filters else top_k
        hits = _filtered(eng.ask(question, want), filters)[:top_k]
        hits = [h if h.rank == i else _reranked(h, i) for i, h in enumerate(hits, 1)]
        return AskResponse.model_validate(compose(shown, hits, settings.no_answer_cosine).as_dict())

    @app.post("/v1/ask", response_model=AskResponse, summary="Ask a question; get cited source sentences")
    def ask(body: AskRequest) -> AskResponse:
        eng = current()
        check(body.question, body.top_k)
        return answer(eng, body.question, body.question, body.top_k, body.filters)

    @app.post("/v1/chat", response_model=AskResponse, summary="Answer the last user message of a conversation")
    def chat(body: ChatRequest) -> AskResponse:
        eng = current()
        users = [m.content for m in body.messages if m.role == "user"]
        if not users or body.messages[-1].role != "user":
            raise InputError("the last message must come from the user")
        check(users[-1], body.top_k)
        query = resolve_follow_up(users[:-1], users[-1])
        return answer(eng, query, users[-1], body.top_k, None)

    @app.get("/v1/documents", response_model=list[DocumentSummary], summary="List the indexed documents")
    def documents() -> list[DocumentSummary]:
        eng = current()
        return [_summary(eng, doc_id) for doc_id in sorted(eng.index.documents)]

    @app.get("/v1/documents/{doc_id:path}", response_model=DocumentDetail, summary="A document, or a span of it")
    def document(
        doc_id: str,
        start: Annotated[int | None, Query(ge=0)] = None,
        end: Annotated[int | None, Query(ge=0)] = None,
    ) -> DocumentDetail:
        eng = current()
        doc = eng.index.document(doc_id)
        if start is None and end is None:
            return DocumentDetail(**_summary(eng, doc_id).model_dump(), text=doc.original, end=len(doc.original))
        a, b = start or 0, len(doc.original) if end is None else end
        if a >= b or b > len(doc.original):
            raise InputError(f"span [{a}, {b}) is not inside the document (length {len(doc.original)})")
        around = [c for c in eng.index.document_chunks(doc_id) if c.end > a and c.start < b]
        lo = min([a, *(c.start for c in around)])
        hi = max([b, *(c.end for c in around)])
        return DocumentDetail(**_summary(eng, doc_id).model_dump(), text=doc.original[lo:hi], start=lo, end=hi)

    @app.post("/v1/batch", summary="Answer an uploaded question set; streams JSON lines")
    async def batch(request: Request, top_k: Annotated[int, Query(ge=1)] = 10) -> StreamingResponse:
        check("", top_k)
        text = await _upload_text(request, settings.max_upload_bytes)
        questions = parse_questions(text, "upload")
        eng = current()

        def lines() -> Iterator[str]:
            for start in range(0, len(questions), 32):
                group = questions[start : start + 32]
                for q, hits in zip(group, eng.ask_many([q.question for q in group], top_k), strict=True):
                    row = {"id": q.id, "question": q.question, "hits": [h.as_dict() for h in hits]}
                    yield json.dumps(row, ensure_ascii=False) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @app.get("/healthz", summary="Alive")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Index loaded: model and corpus stats")
    def readyz() -> JSONResponse:
        eng = state.get("engine")
        if eng is None:
            return JSONResponse({"status": "loading"}, status_code=503)
        stats = {"documents": len(eng.index.documents), "sentences": len(eng.index.chunks)}
        return JSONResponse({"status": "ready", "model": eng.encoder.model_id, **stats})

    return app


def _reranked(hit: Hit, rank: int) -> Hit:
    return replace(hit, rank=rank)


def _summary(eng: Engine, doc_id: str) -> DocumentSummary:
    doc = eng.index.document(doc_id)
    m = doc.meta
    return DocumentSummary(
        id=doc.id, title=m.title, date=m.date, publisher=m.publisher, author=m.author, sentences=len(doc.chunk_ids)
    )


async def _upload_text(request: Request, limit: int) -> str:
    """The question set from a multipart file field or a raw body, within the size limit."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > limit:
        raise _too_large(limit)
    content_type = request.headers.get("content-type", "text/plain").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InputError('a multipart upload needs a "file" field')
        data = await upload.read()
    elif content_type in _UPLOAD_TYPES:
        data = await request.body()
    else:
        raise _unsupported(content_type)
    if len(data) > limit:
        raise _too_large(limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("the upload is not UTF-8 text") from None


class PayloadTooLargeError(InputError):
    """An upload over the configured size limit."""

    code = "too_large"
    status = 413


class UnsupportedMediaTypeError(InputError):
    """An upload of a type the batch endpoint does not read."""

    code = "unsupported_media_type"
    status = 415


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"the upload is larger than {limit} bytes")


def _unsupported(content_type: str) -> UnsupportedMediaTypeError:
    return UnsupportedMediaTypeError(f"cannot read {content_type!r}: send JSONL, CSV or plain text")
