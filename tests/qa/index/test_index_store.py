"""Index directories: save/load round trip, manifest, refusing indexes of another model, format or tokenizer."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from embeddings.cache import EmbeddingCache
from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.engine import Engine
from qa.errors import IndexMismatchError, NotFoundError
from qa.index import (
    FORMAT_VERSION,
    MANIFEST,
    TOKENIZER_VERSION,
    CorpusIndex,
    load_index,
    open_for_update,
    read_current,
    read_manifest,
)
from qa.ingest import SEGMENTER_VERSION
from qa.search import RetrievalConfig
from tests.sample_docs import PARK_TXT, SOLAR_MD

DOCS = {
    "park.txt": PARK_TXT,
    "solar.md": SOLAR_MD,
    "notes/cafe.txt": "咖啡馆笔记\n\n这家咖啡馆在解放碑附近。它每天早上八点开门。\n",
}
QUESTIONS = ["园区的范围西至哪里？", "How many engineers work at the solar farm?", "咖啡馆几点开门？", "渝中区"]


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    for name, text in docs.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def built(tmp_path: Path, encoder: FakeEncoder) -> tuple[CorpusIndex, Path, Path]:
    """An index of DOCS saved under tmp_path/index; returns (index in memory, index dir, docs dir)."""
    docs = write_docs(tmp_path / "docs", DOCS)
    directory = tmp_path / "index"
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        index, summary = build_index([docs], directory, encoder, cache)
    assert summary.added == len(DOCS)
    return index, directory, docs


def hits_of(index: CorpusIndex, encoder: FakeEncoder) -> list[list[dict[str, object]]]:
    engine = Engine(index, encoder, RetrievalConfig())
    return [[h.as_dict() for h in hits] for hits in engine.ask_many(QUESTIONS, 5)]


def test_round_trip_keeps_chunks_documents_and_results(
    built: tuple[CorpusIndex, Path, Path], encoder: FakeEncoder
) -> None:
    index, directory, docs = built
    loaded = load_index(directory, model_id=encoder.model_id)

    assert loaded.model_id == index.model_id == encoder.model_id
    assert loaded.dim == index.dim == encoder.dim
    assert set(loaded.documents) == set(DOCS)
    for doc_id, doc in index.documents.items():
        other = loaded.documents[doc_id]
        assert other == doc
        assert other.original == (docs / doc_id).read_text(encoding="utf-8")
    assert sorted(loaded.chunks) == sorted(index.chunks)
    for chunk_id, item in index.chunks.items():
        copy = loaded.chunks[chunk_id]
        assert copy.chunk == item.chunk
        assert copy.tokens == item.tokens
        assert copy.key == item.key
        assert loaded.documents[copy.chunk.source].original[copy.chunk.start : copy.chunk.end] == copy.chunk.cited
    ids = np.array(sorted(index.chunks), dtype=np.int64)
    np.testing.assert_array_equal(loaded.sentence_index.vectors(ids), index.sentence_index.vectors(ids))
    np.testing.assert_array_equal(loaded.context_index.vectors(ids), index.context_index.vectors(ids))

    before = hits_of(index, encoder)
    assert all(before), "every question should find something"
    assert hits_of(loaded, encoder) == before


def live(directory: Path) -> Path:
    """The folder of the committed generation."""
    current = read_current(directory)
    assert current is not None
    return directory / current


def test_manifest_describes_the_index(built: tuple[CorpusIndex, Path, Path], encoder: FakeEncoder) -> None:
    index, directory, docs = built
    manifest = read_manifest(directory)
    assert manifest == json.loads((live(directory) / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["model_id"] == encoder.model_id == "fake-hash-64"
    assert manifest["dim"] == 64
    assert manifest["metric"] == "inner_product"
    assert manifest["segmenter_version"] == SEGMENTER_VERSION
    assert manifest["tokenizer_version"] == TOKENIZER_VERSION
    assert "context_version" in manifest
    assert manifest["chunks"] == len(index.chunks)
    assert manifest["documents"] == {
        name: hashlib.sha256((docs / name).read_text(encoding="utf-8").encode("utf-8")).hexdigest() for name in DOCS
    }
    packages = manifest["packages"]
    assert isinstance(packages, dict)
    assert {"numpy", "faiss-cpu", "jieba"} <= set(packages)
    assert packages["numpy"] == np.__version__
    assert all(isinstance(v, str) and v for v in packages.values())
    files = {p.relative_to(live(directory)).as_posix(): p for p in live(directory).rglob("*") if p.is_file()}
    assert set(manifest["files"]) == set(files) - {MANIFEST}
    for name, entry in manifest["files"].items():
        data = files[name].read_bytes()
        assert entry == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_other_model_is_refused_with_rebuild_hint(built: tuple[CorpusIndex, Path, Path]) -> None:
    _, directory, docs = built
    with pytest.raises(IndexMismatchError) as info:
        load_index(directory, model_id="fake-hash-32")
    message = str(info.value)
    assert "fake-hash-64" in message and "fake-hash-32" in message
    assert f"qa index PATH --index {directory} --rebuild" in message

    # an update refuses to embed with another model (an unchanged corpus embeds nothing: no model is needed)
    (docs / "new.txt").write_text("新的文件。\n", encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        build_index([docs], directory, FakeEncoder(32), None)
    # rebuilding starts from an empty index of the new model
    fresh, reusable = open_for_update(directory, FakeEncoder(32), rebuild=True)
    assert (fresh.model_id, fresh.dim, len(fresh.chunks), reusable) == ("fake-hash-32", 32, 0, False)


def test_other_format_version_is_refused(built: tuple[CorpusIndex, Path, Path], encoder: FakeEncoder) -> None:
    _, directory, _ = built
    path = live(directory) / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["format_version"] = FORMAT_VERSION + 1
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match=r"format .*--rebuild"):
        load_index(directory, model_id=encoder.model_id)
    with pytest.raises(IndexMismatchError):
        load_index(directory)  # no model given: the format is still checked


def test_missing_index_is_not_found_with_hint(tmp_path: Path) -> None:
    directory = tmp_path / "nowhere"
    with pytest.raises(NotFoundError) as info:
        load_index(directory)
    assert str(directory) in str(info.value)
    assert "qa index" in str(info.value)


def test_query_load_refuses_another_tokenizer_version(tmp_path: Path) -> None:
    """Stored lexical tokens from another tokenizer would not match the query's tokens."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("园区有企业120家。\n", encoding="utf-8")
    build_index([docs], tmp_path / "index", FakeEncoder(), None)
    manifest_path = live(tmp_path / "index") / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["tokenizer_version"] = "0"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="qa index"):
        load_index(tmp_path / "index")
    assert load_index(tmp_path / "index", for_query=False).chunks
