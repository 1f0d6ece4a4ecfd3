"""The errors of the embeddings layer: one base class, one subclass per kind of failure."""

from __future__ import annotations


class EmbeddingsError(Exception):
    """Base class of every error the embeddings layer raises on purpose."""


class EncoderError(EmbeddingsError, ValueError):
    """An encoder could not be created (unknown name, unloadable model, bad spec)."""


class IndexFormatError(EmbeddingsError, ValueError):
    """A saved vector index is missing, unreadable or inconsistent."""


class ProvisionError(EmbeddingsError, RuntimeError):
    """The default model could not be provisioned (missing wheel, bad file, ...)."""
