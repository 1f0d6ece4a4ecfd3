"""The two vectors of every sentence: the sentence alone, and the sentence in its context.

The context vector is composed, not encoded: the L2-normalized sum of the sentence's own
vector, the previous sentence's of the same paragraph and the vector of its label (document
title and nearest heading, :func:`qa.ingest.context_label`), weighted 1 : 0.5 : 0.5. Only the
sentences and the distinct labels of a document go through the encoder: encoding each context
text as well meant 2.7-2.9 times the tokens, and on the bench sets retrieval with the composed
view stays within 0.01 of the encoded one. Both stores call
:func:`embed_views`; the manifest records :data:`CONTEXT_VIEW`, and an index whose context
vectors were made otherwise is refused for queries and rebuilt by ``qa index``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings import EmbeddingCache, EmbedStats, Encoder, content_key, embed_with_cache
from qa.errors import IndexMismatchError
from qa.ingest import context_label, follows_in_paragraph
from qa.types import Chunk, DocumentMeta

#: Recorded in the manifest as ``context_view``: how the context vectors were made.
CONTEXT_VIEW = "composed-1:0.5:0.5"
PREVIOUS_WEIGHT = 0.5
LABEL_WEIGHT = 0.5


def compose_context(chunks: Sequence[Chunk], sentences: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Context vectors of one document's chunks (document order) from their sentence and label vectors.

    ``labels`` row ``i`` is chunk ``i``'s label vector, a zero row where it has no label.
    """
    out = sentences + LABEL_WEIGHT * labels
    follows = np.array([follows_in_paragraph(chunks, i) for i in range(len(chunks))], dtype=bool)
    out[follows] += PREVIOUS_WEIGHT * sentences[np.flatnonzero(follows) - 1]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    degenerate = norms[:, 0] < 1e-6  # the parts cancel out: keep the sentence's own vector
    out[degenerate], norms[degenerate] = sentences[degenerate], 1.0
    return np.asarray(out / norms, dtype=np.float32)


def embed_views(
    documents: Sequence[tuple[Sequence[Chunk], DocumentMeta]],
    encoder: Encoder,
    cache: EmbeddingCache | None,
    *,
    progress: bool = False,
) -> tuple[list[np.ndarray], list[np.ndarray], EmbedStats]:
    """Sentence and context vectors of each document's chunks, through the embedding cache.

    One encode per sentence and per distinct label, in one pass over all documents.
    """
    labels = [[context_label(c, meta) for c in chunks] for chunks, meta in documents]
    distinct = sorted({label for doc_labels in labels for label in doc_labels if label})
    texts = [c.text for chunks, _ in documents for c in chunks] + distinct
    keys = [content_key(t) for t in texts]
    vectors, stats = embed_with_cache(encoder.encode_documents, encoder.model_id, texts, keys, cache, progress=progress)
    vectors = vectors.reshape(len(texts), encoder.dim) if texts else np.empty((0, encoder.dim), np.float32)
    n = len(texts) - len(distinct)
    label_rows = dict(zip(distinct, vectors[n:], strict=True))
    zero = np.zeros(encoder.dim, np.float32)
    sentences, contexts, at = [], [], 0
    for (chunks, _), doc_labels in zip(documents, labels, strict=True):
        own = vectors[at : at + len(chunks)]
        label_vectors = np.array([label_rows.get(label, zero) for label in doc_labels], np.float32)
        sentences.append(own)
        contexts.append(compose_context(chunks, own, label_vectors.reshape(len(chunks), encoder.dim)))
        at += len(chunks)
    return sentences, contexts, stats


def check_context_view(manifest: dict[str, Any], directory: Path) -> None:
    """Refuse an index whose context vectors were not made as :data:`CONTEXT_VIEW` says."""
    found = manifest.get("context_view")
    if found != CONTEXT_VIEW:
        raise IndexMismatchError(
            f"{directory}: the index's context vectors are {found or 'encoded context texts'}, not {CONTEXT_VIEW}; "
            f"update it with: qa index PATH --index {directory}"
        )
