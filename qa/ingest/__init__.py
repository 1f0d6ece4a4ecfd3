"""Reading and segmenting: files and JSONL records in, clean text with an offset map, sentences with exact offsets."""

from __future__ import annotations

from qa.ingest.context import CONTEXT_VERSION, context_label, context_texts, follows_in_paragraph
from qa.ingest.jsonlines import iter_json_objects, write_json_lines
from qa.ingest.markup import CleanTextBuilder, clean_html, clean_markdown, clean_plain, looks_like_html
from qa.ingest.metadata import (
    author_names,
    checked_fields,
    extract_meta,
    fields_as_text,
    normalize_date,
    split_front_matter,
)
from qa.ingest.reading import decode_bytes, iter_documents, parse_document, read_file
from qa.ingest.segment import HARD_CAP, SEGMENTER_VERSION, SOFT_CAP, segment

__all__ = [
    "CONTEXT_VERSION",
    "HARD_CAP",
    "SEGMENTER_VERSION",
    "SOFT_CAP",
    "CleanTextBuilder",
    "author_names",
    "checked_fields",
    "clean_html",
    "clean_markdown",
    "clean_plain",
    "context_label",
    "context_texts",
    "decode_bytes",
    "extract_meta",
    "fields_as_text",
    "follows_in_paragraph",
    "iter_documents",
    "iter_json_objects",
    "looks_like_html",
    "normalize_date",
    "parse_document",
    "read_file",
    "segment",
    "split_front_matter",
    "write_json_lines",
]
