"""How a candidate compares with the other candidates of its own document.

Most wrong first answers come from the right document: a sentence that repeats the question's
topic words, which every sentence of the passage shares, beats the one that repeats the words
only it holds. Weighting the question's words by how few of the document's candidates hold them
(an inverse document frequency within the document) and comparing each candidate with its
document's best tell the two apart.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

WITHIN_DOCUMENT_FEATURES = ("local_cover", "unique_cover", "doc_cover_gap", "doc_cosine_rank", "doc_own_cosine_gap")


def within_document_columns(
    sources: Sequence[str], tokens: Sequence[Sequence[str]], question: set[str], cosines: np.ndarray
) -> np.ndarray:
    """:data:`WITHIN_DOCUMENT_FEATURES` per candidate (``sources``, ``tokens``, ``cosines``: the candidates')."""
    n = len(sources)
    held = [question.intersection(t) for t in tokens]
    members: dict[str, list[int]] = defaultdict(list)
    for i, source in enumerate(sources):
        members[source].append(i)
    rows = np.zeros((n, len(WITHIN_DOCUMENT_FEATURES)), dtype=np.float32)
    for group in members.values():
        frequency: dict[str, int] = defaultdict(int)
        for i in group:
            for token in held[i]:
                frequency[token] += 1
        weight = {t: math.log(1.0 + len(group) / f) for t, f in frequency.items()}
        total = sum(weight.values())
        local = [sum(weight[t] for t in held[i]) / total if total else 0.0 for i in group]
        unique = [sum(frequency[t] == 1 for t in held[i]) / len(question) if question else 0.0 for i in group]
        best_cover = max(len(held[i]) for i in group) / len(question) if question else 0.0
        own = cosines[group]
        order = np.empty(len(group), dtype=np.float32)
        order[np.argsort(-own, kind="stable")] = np.arange(len(group), dtype=np.float32)
        for k, i in enumerate(group):
            cover = len(held[i]) / len(question) if question else 0.0
            rows[i] = (local[k], unique[k], cover - best_cover, order[k], own[k] - own.max())
    return rows
