"""A new document from a request: a JSON body (text and metadata) or a multipart file (PDF, DOCX, text).

A multipart upload has the file in a ``file`` field and, optionally, ``id`` (default: the file
name) and metadata fields (``title``, ``date``, ``publisher``, ``author``, ``url``). The body
size limit (QA_MAX_UPLOAD_BYTES) applies to both.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.errors import RequestError, UnsupportedMediaTypeError
from api.schemas_documents import DocumentCreate
from qa.ingest import decode_bytes, parse_document
from qa.ingest.binary import BINARY_KINDS, legacy_word_message, parse_binary
from qa.types import Document

_FIELDS = ("title", "date", "publisher", "author", "url")
_TEXT_KINDS = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html"}
_MEDIA_KINDS = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}

#: OpenAPI description of the request body: JSON, or a multipart file.
REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {"schema": DocumentCreate.model_json_schema()},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary", "description": "A PDF, DOCX, .txt, .md or .html"},
                    "id": {"type": "string", "description": "Document id (default: the file name)."},
                    **{name: {"type": "string"} for name in _FIELDS},
                },
            }
        },
    },
}


def _media_type(request: Request) -> str:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


async def incoming_document(request: Request) -> Document:
    """The document a POST carries, read like ``qa index`` reads a file of the same kind."""
    media = _media_type(request)
    if media == "multipart/form-data":
        return await _from_form(request)
    if media not in {"application/json", ""} and not media.endswith("+json"):
        raise UnsupportedMediaTypeError(f"cannot read {media!r}: send JSON, or a multipart file")
    try:
        body = DocumentCreate.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    return parse_document(body.id, body.text, body.kind, body.fields())


async def _from_form(request: Request) -> Document:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise RequestError('a multipart upload needs the document in a "file" field')
    name = upload.filename or "upload"
    doc_id = str(form.get("id") or name)
    if not doc_id.strip() or len(doc_id) > 512 or any(ord(c) < 0x20 or ord(c) == 0x7F for c in doc_id):
        raise RequestError(f"document id {json.dumps(doc_id, ensure_ascii=False)} is not usable")
    fields = {k: str(form[k]) for k in _FIELDS if isinstance(form.get(k), str) and str(form[k]).strip()}
    suffix = PurePosixPath(name).suffix.lower() or _MEDIA_KINDS.get((upload.content_type or "").lower(), "")
    data = await upload.read()
    if suffix == ".doc":
        raise UnsupportedMediaTypeError(legacy_word_message(name))
    if suffix in BINARY_KINDS:
        return parse_binary(doc_id, data, BINARY_KINDS[suffix], fields, name)
    if suffix in _TEXT_KINDS or suffix == ".htm":
        return parse_document(doc_id, decode_bytes(data, name), _TEXT_KINDS.get(suffix, "html"), fields)
    raise UnsupportedMediaTypeError(f"{name}: send a PDF, DOCX, .txt, .md or .html file")
