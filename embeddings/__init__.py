"""The embeddings layer: encoders, default-model provisioning, vector indexes, embedding cache.

It knows nothing of ``qa``; every path and setting is passed in by the caller.
"""

from embeddings.cache import CACHE_FILE, EmbeddingCache, EmbedStats, content_key, embed_with_cache
from embeddings.e5 import DEFAULT_MODEL_NAME, ensure_default_model, is_provisioned
from embeddings.encoders import Encoder, FakeEncoder, SentenceTransformerEncoder, load_encoder
from embeddings.errors import EmbeddingsError, EncoderError, IndexFormatError, ProvisionError
from embeddings.vector_index import FaissIndex, NumpyIndex, VectorIndex, new_vector_index, open_vector_index

__all__ = [
    "CACHE_FILE",
    "DEFAULT_MODEL_NAME",
    "EmbedStats",
    "EmbeddingCache",
    "EmbeddingsError",
    "Encoder",
    "EncoderError",
    "FaissIndex",
    "FakeEncoder",
    "IndexFormatError",
    "NumpyIndex",
    "ProvisionError",
    "SentenceTransformerEncoder",
    "VectorIndex",
    "content_key",
    "embed_with_cache",
    "ensure_default_model",
    "is_provisioned",
    "load_encoder",
    "new_vector_index",
    "open_vector_index",
]
