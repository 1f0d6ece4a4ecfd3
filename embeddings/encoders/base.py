"""The encoder contract: texts in, L2-normalized float32 vectors out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Encoder(Protocol):
    """Maps texts to L2-normalized float32 vectors of width ``dim``."""

    model_id: str  # identifies the model and the variant of its vectors (index manifest, embedding cache)
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries.

        Args:
            texts: the queries (a sequence of strings, not one string).

        Returns:
            An ``(n, dim)`` float32 array, rows L2-normalized, in input order.
        """
        ...

    def encode_documents(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Embed passages to be searched.

        Args:
            texts: the passages (a sequence of strings, not one string).
            batch_size: how many texts the model runs at once.
            progress: show a progress bar on a terminal.

        Returns:
            An ``(n, dim)`` float32 array, rows L2-normalized, in input order.
        """
        ...


def l2_normalize(matrix: np.ndarray) -> np.ndarray:
    """Rows of ``matrix`` scaled to unit L2 norm, as float32 (an all-zero row stays zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def as_text_list(texts: Sequence[str]) -> list[str]:
    """``texts`` as a list of str; TypeError for a single string passed by mistake."""
    if isinstance(texts, str):
        raise TypeError("pass a sequence of strings, not a single string")
    return [str(text) for text in texts]
