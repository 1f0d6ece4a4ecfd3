"""English questions over Chinese text: the query vector moved from where English questions lie to Chinese ones.

A multilingual encoder keeps a language component in every vector: English questions sit near
each other, apart from Chinese questions and Chinese sentences, and an English question's cosine
with the Chinese sentence that answers it is lowered by that alone. Subtracting the difference
between the mean query vectors of English and of Chinese questions takes most of it away
(measured once per encoder model on the benchmark questions by ``scripts/language_shift.py``,
written to ``models/language_shift.json``). Other models are left as they are.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np

SHIFT_FILE = "language_shift.json"
#: Under this share of an English question's tokens found in the index, its text is taken to be in another language.
FOREIGN_COVERAGE = 0.75


@lru_cache(maxsize=1)
def _shifts() -> dict[str, np.ndarray]:
    source = resources.files("qa.search") / "models" / SHIFT_FILE
    found = json.loads(source.read_text(encoding="utf-8"))["models"]
    return {model: np.array(entry["english_minus_chinese"], dtype=np.float32) for model, entry in found.items()}


def english_shift(model_id: str) -> np.ndarray | None:
    """The shipped English-minus-Chinese shift of an encoder model's query vectors (None when not measured)."""
    return _shifts().get(model_id)


def language_shift(english: np.ndarray, chinese: np.ndarray) -> np.ndarray:
    """The mean of English questions' query vectors minus that of Chinese questions' (rows are vectors)."""
    return (english.mean(axis=0) - chinese.mean(axis=0)).astype(np.float32)


def toward_chinese(query: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """An English question's unit query vector with ``shift`` taken away, of unit length again."""
    moved = query - shift
    norm = float(np.linalg.norm(moved))
    return (moved / norm).astype(np.float32) if norm > 0 else query


def moved_query(query: np.ndarray, shift: np.ndarray, coverage: float) -> np.ndarray:
    """An English question's query vector: moved by ``shift`` when the index knows under FOREIGN_COVERAGE of its
    tokens (``coverage``) and the sizes agree, as it is otherwise."""
    if len(shift) != len(query) or coverage >= FOREIGN_COVERAGE:
        return query
    return toward_chinese(query, shift)
