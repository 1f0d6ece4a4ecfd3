"""A small corpus indexed with the fake encoder, for the search tests."""

from __future__ import annotations

from pathlib import Path

from embeddings.cache import EmbeddingCache
from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.index import CorpusIndex


def fake_index(root: Path, corpus: dict[str, str]) -> tuple[CorpusIndex, FakeEncoder]:
    """``corpus`` (file name -> text) written under ``root``/corpus and indexed in ``root``/index."""
    folder = root / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in corpus.items():
        (folder / name).write_text(text, encoding="utf-8")
    encoder = FakeEncoder()
    with EmbeddingCache(root / "cache.sqlite") as cache:
        index, _ = build_index([folder], root / "index", encoder, cache)
    return index, encoder
