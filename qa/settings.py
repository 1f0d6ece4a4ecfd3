"""Configuration, read from ``QA_*`` environment variables (and a ``.env`` file) by the CLI and the API only.

Library functions take explicit arguments; this class is the one place that reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def user_cache_dir() -> Path:
    """chuchu's folder under ``$XDG_CACHE_HOME`` (when set to an absolute path), else under ``~/.cache``."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "chuchu"


#: where an index lives: ``memory`` (loaded whole, format 3) or ``segments`` (on disk, read per hit, format 4)
IndexBackend = Literal["memory", "segments"]


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
    index_backend: IndexBackend = Field(
        "memory", description="Index store: memory (loaded whole) or segments (on disk, for large corpora)."
    )
    vector_index: Literal["flat", "ivf", "auto"] = Field(
        "auto", description="Vector index type: flat (exact), ivf (IVF, fp16), auto (ivf from 100k sentences)."
    )
    ivf_nprobe: int | None = Field(None, ge=1, description="IVF lists searched per query (default: nlist/16, >= 16).")
    user_dict: Path | None = Field(None, description="jieba user dictionary of domain terms.")
    host: str = "127.0.0.1"
    port: int = 8000
    api_key: str | None = Field(None, description="Key required by write endpoints; unset disables writes.")
    served_model: str = Field("chuchu", description="Model id of the index on the OpenAI-compatible endpoints.")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS (JSON list).")
    no_answer_cosine: float = Field(
        0.88, description="Best dense score under which an answer says no source was found (default model)."
    )
    max_question_chars: int = 2000
    max_top_k: int = 50
    max_upload_bytes: int = 10_000_000
