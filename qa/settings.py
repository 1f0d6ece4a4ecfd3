"""Configuration, read from ``QA_*`` environment variables (and a ``.env`` file) by the CLI and the API only.

Library functions take explicit arguments; this class is the one place that reads the environment.
Limits the library also applies on its own (question length, the no-answer cosine) take their
defaults from the library's constants, so each value is written once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from qa.index.milvus import MilvusTarget
from qa.runs import MAX_QUESTION_CHARS
from qa.search import NO_ANSWER_COSINE


def user_cache_dir() -> Path:
    """chuchu's folder under ``$XDG_CACHE_HOME`` (when set to an absolute path), else under ``~/.cache``."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "chuchu"


#: where an index lives: ``memory`` (loaded whole, format 3), ``segments`` (on disk, read per hit, format 5),
#: ``auto`` (an existing index's own store; for a new one, by the input's size: qa.index.opening; ``local``
#: is the same) or ``milvus`` (collections in Milvus Lite or a Milvus server)
IndexBackend = Literal["auto", "memory", "segments", "milvus", "local"]


class Settings(BaseSettings):
    """Every setting of chuchu, with its default."""

    model_config = SettingsConfigDict(env_prefix="QA_", env_file=".env", extra="ignore")

    corpus: Path = Field(Path("seeds"), description="Corpus indexed when none is given (folder, file or .jsonl).")
    index_dir: Path = Field(Path("var/index"), description="Index directory.")
    model: str = Field(
        "multilingual-e5-small",
        description="Embedding model: the default, 'fake', or any sentence-transformers name or path.",
    )
    model_dir: Path = Field(
        default_factory=lambda: user_cache_dir() / "models",
        description="Where the default model is converted to (default ~/.cache/chuchu/models).",
    )
    cache_dir: Path = Field(
        default_factory=user_cache_dir, description="Embedding cache folder (default ~/.cache/chuchu)."
    )
    device: str | None = Field(None, description="'cpu' or 'cuda' (default: cuda when available).")
    encoder_backend: Literal["auto", "torch", "onnx"] = Field(
        "auto", description="Engine of the default model: onnx (int8, cpu), torch, or auto (onnx unless on cuda)."
    )
    threads: int | None = Field(
        None, ge=1, description="Intra-op threads of the encoder, torch or ONNX (default: the engine's own choice)."
    )
    index_backend: IndexBackend = Field(
        "auto",
        description="Index store: memory (loaded whole), segments (on disk, read per hit), auto (by size; or"
        " local), milvus.",
    )
    milvus_uri: str = Field(
        "var/milvus.db", description="With QA_INDEX_BACKEND=milvus: a Milvus Lite file, or http://host:19530."
    )
    milvus_token: str | None = Field(None, description="Token (user:password or API key) of a Milvus server.")
    milvus_collection: str = Field(
        "chuchu", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,200}$", description="Name prefix of the index's collections."
    )
    vector_index: Literal["flat", "hnsw", "ivf", "auto"] = Field(
        "auto",
        description="Vector index type: flat (exact), hnsw (HNSW graph, fp16), ivf (IVF, fp16), auto (hnsw from"
        " 100k sentences a segment).",
    )
    ivf_nprobe: int | None = Field(
        None, ge=1, description="IVF lists searched per query (default: nlist/4 to 256 lists, nlist/8 above, >= 32)."
    )
    user_dict: Path | None = Field(None, description="jieba user dictionary of domain terms.")
    host: str = "127.0.0.1"
    port: int = 8000
    api_key: str | None = Field(None, description="Key required by write endpoints; unset disables writes.")
    served_model: str = Field("chuchu", description="Model id of the index on the OpenAI-compatible endpoints.")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS (JSON list).")
    ranker: Literal["on", "off"] = Field(
        "on", description="Learned re-ranker of the candidates: on, or off for the fused order alone."
    )
    no_answer: Literal["model", "cosine"] = Field(
        "model", description="How 'no source found' is decided: the answerability model, or QA_NO_ANSWER_COSINE."
    )
    no_answer_cosine: float = Field(
        NO_ANSWER_COSINE, description="With QA_NO_ANSWER=cosine: best dense score under which no source was found."
    )
    max_question_chars: int = Field(MAX_QUESTION_CHARS, description="Longest question, claim or message accepted.")
    max_top_k: int = 50
    max_upload_bytes: int = 10_000_000
    read_timeout: float = Field(
        30.0, gt=0, description="Seconds a client has to send a whole request (headers and body) to qa serve."
    )
    max_connections: int = Field(1000, ge=1, description="Connections qa serve handles at once (more get 503).")

    def index_name(self) -> str:
        """How messages name the configured index: its directory, or its Milvus URI and collection prefix."""
        if self.index_backend == "milvus":
            return f"{self.milvus_uri} ({self.milvus_collection})"
        return str(self.index_dir)

    def milvus_target(self) -> MilvusTarget:
        """Where the index lives with QA_INDEX_BACKEND=milvus."""
        return MilvusTarget(self.milvus_uri, self.milvus_token, self.milvus_collection)
