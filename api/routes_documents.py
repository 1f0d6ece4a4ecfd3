"""``/v1/documents``: list, read (whole or a span in context), add, replace and delete documents.

Document ids are plain strings kept in the index; none of them ever names a file on the
server. Writes need the API key and update the index copy-on-write (see :mod:`api.state`).
"""

from __future__ import annotations

import datetime
from pathlib import PurePosixPath
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from api.deps import CurrentEngine, State, require_api_key
from api.errors import RequestError, error_responses
from api.schemas_documents import (
    DocumentDetail,
    DocumentIn,
    DocumentList,
    DocumentSpan,
    DocumentSummary,
    Sentence,
    WriteResult,
)
from api.uploads import REQUEST_BODY, incoming_document
from qa.engine import Engine
from qa.index import MEDIA_TYPES, StoredDocument, original_file
from qa.ingest import parse_document
from qa.search import format_citations
from qa.types import Document

router = APIRouter(prefix="/v1/documents", tags=["documents"])

DocId = Annotated[
    str, Path(min_length=1, max_length=512, pattern=r"^[^\x00-\x1f\x7f]+$", description="Document id (may hold /).")
]
_GUARD = [Depends(require_api_key)]


def _summary(doc: StoredDocument) -> dict[str, object]:
    m = doc.meta
    return {
        "id": doc.id,
        "title": m.title,
        "date": m.date,
        "publisher": m.publisher,
        "author": m.author,
        "url": m.url,
        "sentences": len(doc.chunk_ids),
    }


@router.get("", response_model=DocumentList, summary="List the indexed documents", responses=error_responses(422))
def list_documents(
    engine: CurrentEngine,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> DocumentList:
    """Documents sorted by id, with their metadata and sentence counts."""
    ids = sorted(engine.index.documents)
    page = [DocumentSummary.model_validate(_summary(engine.index.documents[i])) for i in ids[offset : offset + limit]]
    return DocumentList(total=len(ids), offset=offset, documents=page)


def _path(doc_id: str) -> str:
    return "/v1/documents/" + "/".join(quote(part, safe="") for part in doc_id.split("/"))


@router.get(
    "/{doc_id:path}/file",
    response_class=Response,
    summary="The original PDF or DOCX file of a document (open a PDF at page n with #page=n)",
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}, **error_responses(404, 409, 422)},
)
def get_file(doc_id: DocId, engine: CurrentEngine, state: State) -> Response:
    """The file a PDF or DOCX document was read from, as the index keeps it (checked against its checksum)."""
    if doc_id not in engine.index.documents and f"{doc_id}/file" in engine.index.documents:
        return JSONResponse(jsonable_encoder(get_document(f"{doc_id}/file", engine)))  # an id ending in /file
    doc = engine.index.document(doc_id)
    data = original_file(engine.index, state.settings.index_dir, doc)
    name = quote(PurePosixPath(doc.id).name, safe="")
    headers = {"Content-Disposition": f"inline; filename*=UTF-8''{name}", "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type=MEDIA_TYPES[doc.file_kind or ""], headers=headers)


@router.get(
    "/{doc_id:path}",
    response_model=DocumentDetail | DocumentSpan,
    summary="A document's metadata and original text, or a span of it in context",
    responses=error_responses(404, 422),
)
def get_document(
    doc_id: DocId,
    engine: CurrentEngine,
    start: Annotated[
        int | None, Query(ge=0, description="Span start (offset into the original text; default 0); below end.")
    ] = None,
    end: Annotated[
        int | None,
        Query(ge=1, description="Span end (exclusive; default the text's length); above start, at most the length."),
    ] = None,
) -> DocumentDetail | DocumentSpan:
    """The whole document, or with ``start``/``end`` (a hit's offsets) that span plus the sentences around it.

    A span comes with the sentences overlapping it and one more on each side, and ``context``:
    the original text from the first of those sentences to the last. A span must be a non-empty
    part of the text (``0 <= start < end <= length``); any other is refused with 422.
    """
    doc = engine.index.document(doc_id)
    if start is None and end is None:
        citation = format_citations(doc.meta, doc.id, accessed=datetime.date.today())
        meta = {"checksum": doc.checksum, "extra": dict(doc.meta.extra), "length": len(doc.original)}
        where = {"pages": list(doc.pages), "file": f"{_path(doc.id)}/file" if doc.file_kind else None}
        return DocumentDetail.model_validate(
            {**_summary(doc), **meta, **where, "citation": citation.as_dict(), "text": doc.original}
        )
    return _span(engine, doc, 0 if start is None else start, len(doc.original) if end is None else end)


def _span(engine: Engine, doc: StoredDocument, start: int, end: int) -> DocumentSpan:
    if not start < end <= len(doc.original):
        raise RequestError(f"span [{start}, {end}) is not a non-empty part of the text (length {len(doc.original)})")
    chunks = engine.index.document_chunks(doc.id)
    inside = [i for i, c in enumerate(chunks) if c.start < end and c.end > start]
    if inside:
        first, last = max(inside[0] - 1, 0), min(inside[-1] + 1, len(chunks) - 1)
    else:  # a span between sentences (a heading's markup, blank lines): the sentences on either side
        first = max(sum(1 for c in chunks if c.end <= start) - 1, 0)
        last = min(first + 1, len(chunks) - 1)
    around = chunks[first : last + 1] if chunks else []
    lo = min([start, *(c.start for c in around)])
    hi = max([end, *(c.end for c in around)])
    sentences = [
        Sentence(
            index=c.index, start=c.start, end=c.end, line=c.line, text=c.cited, in_span=c.end > start and c.start < end
        )
        for c in around
    ]
    return DocumentSpan.model_validate(
        {
            **_summary(doc),
            "start": start,
            "end": end,
            "text": doc.original[start:end],
            "context_start": lo,
            "context_end": hi,
            "context": doc.original[lo:hi],
            "around": sentences,
        }
    )


def _parse(doc_id: str, body: DocumentIn) -> Document:
    return parse_document(doc_id, body.text, body.kind, body.fields())


def _result(doc_id: str, status: str, engine: Engine) -> WriteResult:
    doc = engine.index.documents.get(doc_id)
    sentences = len(doc.chunk_ids) if doc is not None else 0
    return WriteResult.model_validate(
        {"id": doc_id, "status": status, "sentences": sentences, "documents": len(engine.index.documents)}
    )


@router.post(
    "",
    response_model=WriteResult,
    status_code=201,
    summary="Add a document (409 if the id exists)",
    dependencies=_GUARD,
    responses=error_responses(400, 401, 403, 409, 413, 415, 422),
    openapi_extra={"requestBody": REQUEST_BODY},
)
async def create_document(request: Request, state: State) -> WriteResult:
    """Read, segment and embed a new document into the index (needs ``X-API-Key``).

    The body is JSON (``id``, ``text``, metadata) or a multipart ``file`` (PDF, DOCX, .txt, .md,
    .html) with optional ``id`` (default: the file name) and metadata fields.
    """
    doc = await incoming_document(request)
    status, engine = await run_in_threadpool(state.create, doc)
    return _result(doc.id, status, engine)


@router.put(
    "/{doc_id:path}",
    response_model=WriteResult,
    summary="Add or replace a document (201 when added)",
    dependencies=_GUARD,
    responses={201: {"model": WriteResult, "description": "Added"}, **error_responses(400, 401, 403, 413, 422)},
)
def put_document(doc_id: DocId, body: DocumentIn, state: State, response: Response) -> WriteResult:
    """Replace the document with this id (or add it: 201); an identical one is left as it is."""
    status, engine = state.put(_parse(doc_id, body))
    if status == "created":
        response.status_code = 201
    return _result(doc_id, status, engine)


@router.delete(
    "/{doc_id:path}",
    response_model=WriteResult,
    summary="Delete a document",
    dependencies=_GUARD,
    responses=error_responses(401, 403, 404, 422),
)
def delete_document(doc_id: DocId, state: State) -> WriteResult:
    """Remove the document and its sentences from the index (needs ``X-API-Key``)."""
    status, engine = state.delete(doc_id)
    return _result(doc_id, status, engine)
