"""A deterministic, dependency-free encoder for tests and dry runs."""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from embeddings.encoders.base import as_text_list, l2_normalize
from embeddings.errors import EncoderError


class FakeEncoder:
    """Deterministic, dependency-free stand-in for tests and dry runs.

    Hashes the character unigrams and bigrams of the lowercased text into ``dim``
    buckets with CRC-32 (stable across processes, unlike ``hash()``) and L2-normalizes,
    so texts that share characters get similar vectors. Queries and documents are
    embedded the same way; a text without characters maps to a fixed unit vector.
    """

    def __init__(self, dim: int = 64, *, model_id: str | None = None) -> None:
        """A fake of ``dim`` dimensions; ``model_id`` defaults to ``fake-hash-DIM``."""
        if dim <= 0:
            raise EncoderError(f"FakeEncoder dimension must be positive, got {dim}")
        self.dim = dim
        self.model_id = model_id or f"fake-hash-{dim}"

    def __repr__(self) -> str:
        return f"FakeEncoder(dim={self.dim})"

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed queries (same as documents)."""
        return self._encode(texts)

    def encode_documents(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Embed documents; ``batch_size`` and ``progress`` are accepted and ignored."""
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        items = as_text_list(texts)
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        for row, text in enumerate(items):
            buckets = [_bucket(feature, self.dim) for feature in _char_features(text)]
            out[row] = np.bincount(buckets or [_bucket("", self.dim)], minlength=self.dim)
        return l2_normalize(out)


def _char_features(text: str) -> list[str]:
    chars = list(" ".join(text.lower().split()))
    grams = [ch for ch in chars if ch != " "]
    grams += [a + b for a, b in itertools.pairwise(chars) if " " not in (a, b)]
    return grams


@lru_cache(maxsize=65536)
def _bucket(feature: str, dim: int) -> int:
    return zlib.crc32(feature.encode("utf-8")) % dim


def parse_fake_spec(name: str) -> FakeEncoder:
    """A FakeEncoder from ``"fake"`` (64 dimensions) or ``"fake:DIM"``; EncoderError for a bad spec."""
    _, _, raw = name.partition(":")
    if not raw:
        return FakeEncoder()
    try:
        dim = int(raw)
    except ValueError:
        raise EncoderError(f"bad fake encoder spec {name!r}: expected 'fake' or 'fake:DIM'") from None
    return FakeEncoder(dim)
