"""The index directory: its manifest, chunk store, vectors, lexical index and incremental updates."""

from __future__ import annotations

from qa.index.layout import MANIFEST, directory_state, read_current, read_manifest, writing
from qa.index.lexical import (
    STOPWORDS,
    TOKENIZER_VERSION,
    LexicalIndex,
    load_user_dictionary,
    tokenize,
    word_frequency,
)
from qa.index.opening import choose_store, open_index, store_of
from qa.index.originals import MEDIA_TYPES, read_original
from qa.index.reader import original_file
from qa.index.store import FORMAT_VERSION, CorpusIndex, StoredDocument, load_index, save_index
from qa.index.update import IndexSummary, add_documents, open_for_update, remove_document, update_index

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST",
    "MEDIA_TYPES",
    "STOPWORDS",
    "TOKENIZER_VERSION",
    "CorpusIndex",
    "IndexSummary",
    "LexicalIndex",
    "StoredDocument",
    "add_documents",
    "choose_store",
    "directory_state",
    "load_index",
    "load_user_dictionary",
    "open_for_update",
    "open_index",
    "original_file",
    "read_current",
    "read_manifest",
    "read_original",
    "remove_document",
    "save_index",
    "store_of",
    "tokenize",
    "update_index",
    "word_frequency",
    "writing",
]
