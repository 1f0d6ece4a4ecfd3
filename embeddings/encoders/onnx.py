"""An encoder for the default model on ONNX Runtime (no torch): tokenize (the compact Unigram
search of :mod:`embeddings.e5.unigram`, the ids of ``tokenizer.json``), run the exported graph,
mean-pool over the attention mask, L2-normalize.

It gives the torch path's vectors (fp32: cosine 1.0000) with the same prompts ``query: `` /
``passage: ``, truncation at 512 tokens and length-sorted batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from embeddings.e5 import DEFAULT_MODEL_NAME, PROMPTS, Progress
from embeddings.e5.onnx_export import ONNX_FILE, TOKENIZER_FILE, ensure_onnx_model
from embeddings.e5.unigram import UnigramTokenizer
from embeddings.encoders.base import as_text_list, l2_normalize
from embeddings.errors import EncoderError, ProvisionError

_MAX_TOKENS = 512


class OnnxEncoder:
    """An :class:`~embeddings.encoders.base.Encoder` running an exported e5 graph on ONNX Runtime's CPU provider."""

    def __init__(self, folder: Path, *, model_id: str, threads: int | None = None) -> None:
        """Load ``folder/model.onnx`` and ``folder/tokenizer.json``; ``threads``: intra-op threads (None: ORT's)."""
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise EncoderError(
                f"the ONNX engine needs onnxruntime ({exc}); install it or use the torch engine"
            ) from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            self._session = ort.InferenceSession(str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"])
            self._tokenizer = UnigramTokenizer(folder / TOKENIZER_FILE)
        except EncoderError:
            raise
        except Exception as exc:
            raise EncoderError(f"cannot load the ONNX model in {folder} ({type(exc).__name__}: {exc})") from exc
        self._pad_id = self._tokenizer.pad
        self.model_id = model_id
        self.threads = threads
        self.dim = int(self._session.get_outputs()[0].shape[-1])

    def __repr__(self) -> str:
        return f"OnnxEncoder(model_id={self.model_id!r}, dim={self.dim}, threads={self.threads})"

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries (with the ``query: `` prompt)."""
        return self._encode(texts, PROMPTS["query"], batch_size=32, progress=False)

    def encode_documents(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Embed passages in length-sorted batches (with the ``passage: `` prompt)."""
        return self._encode(texts, PROMPTS["passage"], batch_size=batch_size, progress=progress)

    def _encode(self, texts: Sequence[str], prompt: str, *, batch_size: int, progress: bool) -> np.ndarray:
        items = as_text_list(texts)
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        if not items:
            return out
        encodings = [self._tokenizer.encode(prompt + text, _MAX_TOKENS) for text in items]
        order = sorted(range(len(items)), key=lambda i: -len(encodings[i]))  # little padding per batch
        with tqdm(total=len(items), desc="embedding", unit="text", disable=None if progress else True) as bar:
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                out[rows] = self._run([encodings[i] for i in rows])
                bar.update(len(rows))
        return out

    def _run(self, token_ids: list[list[int]]) -> np.ndarray:
        """Mean-pooled, normalized vectors of one batch of token id lists."""
        width = max(len(ids) for ids in token_ids)
        input_ids = np.full((len(token_ids), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(token_ids), width), dtype=np.int64)
        for row, ids in enumerate(token_ids):
            input_ids[row, : len(ids)], mask[row, : len(ids)] = ids, 1
        hidden = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return l2_normalize(pooled)


def onnx_model_id(precision: str) -> str:
    """The model id of the default model's ONNX vectors: fp32 ones equal torch's and share its id."""
    return DEFAULT_MODEL_NAME if precision == "fp32" else f"{DEFAULT_MODEL_NAME}@onnx-{precision}"


def load_onnx_default(
    model_dir: Path, *, precision: str = "int8", threads: int | None = None, progress: Progress | None = None
) -> OnnxEncoder:
    """The default model on ONNX Runtime in ``precision``, exported into ``model_dir`` on first use."""
    try:
        folder = ensure_onnx_model(model_dir, precision, progress=progress)
    except (ProvisionError, OSError) as exc:
        raise EncoderError(f"cannot provision the default model {DEFAULT_MODEL_NAME!r} for ONNX: {exc}") from exc
    return OnnxEncoder(folder, model_id=onnx_model_id(precision), threads=threads)
