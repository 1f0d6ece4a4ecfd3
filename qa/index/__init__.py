"""The index directory: its manifest, chunk store, vectors, lexical index and incremental updates."""

from __future__ import annotations

from qa.index.layout import MANIFEST, directory_state, read_current, read_manifest, writing
from qa.index.lexical import TOKENIZER_VERSION, LexicalIndex, load_user_dictionary, tokenize
from qa.index.store import FORMAT_VERSION, CorpusIndex, StoredDocument, load_index, save_index
from qa.index.update import IndexSummary, add_documents, open_for_update, remove_document, update_index

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST",
    "TOKENIZER_VERSION",
    "CorpusIndex",
    "IndexSummary",
    "LexicalIndex",
    "StoredDocument",
    "add_documents",
    "directory_state",
    "load_index",
    "load_user_dictionary",
    "open_for_update",
    "read_current",
    "read_manifest",
    "remove_document",
    "save_index",
    "tokenize",
    "update_index",
    "writing",
]
