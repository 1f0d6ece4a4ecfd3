"""Documents from binary files (PDF, DOCX): extracted text, pages, metadata and the file itself.

The extracted text is the document's original text (offsets, ``GET /v1/documents/{id}`` and the
index all refer to it); its clean text is the same string. Metadata: fields given from outside
(a sidecar, an API request) first, then the file's own title and author (PDF information
dictionary, DOCX core properties), then what the text states; the file's creation date is used
only when the text states no date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from qa.errors import InputError
from qa.ingest.docx import read_docx_content
from qa.ingest.metadata import extract_meta, normalize_date
from qa.ingest.paged import PagedText
from qa.ingest.pdf import read_pdf_content
from qa.types import Document, SourceFile

#: File suffixes read as binary documents, by kind.
BINARY_KINDS = {".pdf": "pdf", ".docx": "docx"}
#: Titles and authors some producers write into every file; they name nothing.
_PLACEHOLDERS = frozenset({"untitled", "unspecified", "anonymous", "unknown", "无标题"})


def legacy_word_message(name: str) -> str:
    """Why a .doc file is not read, and what to do instead."""
    return (
        f"{name}: binary Word (.doc) files are not supported; convert it to .docx "
        "(in Word: Save As .docx, or: libreoffice --headless --convert-to docx FILE)"
    )


def _pdf_fields(info: Mapping[str, str]) -> dict[str, str]:
    fields = {"title": info.get("Title", ""), "author": info.get("Author", "")}
    if info.get("CreationDate", "").startswith("D:") and len(info["CreationDate"]) >= 10:
        raw = info["CreationDate"][2:10]
        fields["created"] = f"{raw[:4]}-{raw[4:6]}-{raw[6:8]}"
    return {k: v for k, v in fields.items() if v and v.strip("() ").lower() not in _PLACEHOLDERS}


def _document(
    doc_id: str, paged: PagedText, own: dict[str, str], given: Mapping[str, str], file: SourceFile
) -> Document:
    created = own.pop("created", None)
    own.pop("modified", None)
    merged = {**own, **given}
    meta = extract_meta(paged.text, paged.blocks, merged, fallback_title=Path(doc_id).stem)
    if meta.date is None and created is not None:
        meta = replace(meta, date=normalize_date(created))
    n = len(paged.text)
    return Document(
        doc_id, paged.text, paged.text, tuple(range(n)), tuple(range(1, n + 1)), paged.blocks, meta, paged.pages, file
    )


def parse_binary(
    doc_id: str, data: bytes, kind: str, fields: Mapping[str, str] | None = None, name: str = ""
) -> Document:
    """A document from the bytes of a PDF (``kind="pdf"``) or DOCX (``"docx"``) file.

    ``name`` names the file in messages (default: the id). Raises :class:`InputError` (or a
    subclass) for a file that cannot be read, is encrypted, or has no text.
    """
    name = name or doc_id
    file = SourceFile(kind, data)
    if kind == "pdf":
        pdf = read_pdf_content(data, name)
        return _document(doc_id, pdf.paged, _pdf_fields(pdf.info), fields or {}, file)
    if kind == "docx":
        word = read_docx_content(data, name)
        if not word.paged.text.strip():
            raise InputError(f"{name}: the Word file holds no text")
        return _document(doc_id, word.paged, dict(word.properties), fields or {}, file)
    raise InputError(f"{name}: unknown binary document kind {kind!r} (pdf or docx)")
