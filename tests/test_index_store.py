"""Index directories: save/load round trip, manifest, refusing foreign indexes, crash safety."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sample_docs import PARK_TXT, SOLAR_MD
from typer.testing import CliRunner

from embeddings.cache import EmbeddingCache
from embeddings.encoders import FakeEncoder
from embeddings.vector_index import FaissIndex
from qa.cli import app
from qa.engine import Engine
from qa.errors import IndexMismatchError, NotFoundError
from qa.index import (
    FORMAT_VERSION,
    TOKENIZER_VERSION,
    CorpusIndex,
    IndexSummary,
    load_index,
    open_for_update,
    read_manifest,
    save_index,
    update_index,
)
from qa.index import store as index_store
from qa.ingest import SEGMENTER_VERSION, iter_documents
from qa.search import RetrievalConfig

DOCS = {
    "park.txt": PARK_TXT,
    "solar.md": SOLAR_MD,
    "notes/cafe.txt": "咖啡馆笔记\n\n这家咖啡馆在解放碑附近。它每天早上八点开门。\n",
}
QUESTIONS = ["园区的范围西至哪里？", "How many engineers work at the solar farm?", "咖啡馆几点开门？", "渝中区"]


def build_index(
    paths: list[Path], directory: Path, encoder: FakeEncoder, cache: EmbeddingCache | None
) -> tuple[CorpusIndex, IndexSummary]:
    """An index in the in-memory store's format (version 2), the layout these tests check."""
    index, reusable = open_for_update(directory, encoder)
    summary = update_index(index, iter_documents(paths), encoder, cache, reusable=reusable)
    save_index(index, directory)
    return index, summary


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


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


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
    np.testing.assert_array_equal(loaded.vector_index.vectors(ids), index.vector_index.vectors(ids))
    np.testing.assert_array_equal(loaded.context_index.vectors(ids), index.context_index.vectors(ids))

    before = hits_of(index, encoder)
    assert all(before), "every question should find something"
    assert hits_of(loaded, encoder) == before


def test_manifest_describes_the_index(built: tuple[CorpusIndex, Path, Path], encoder: FakeEncoder) -> None:
    index, directory, docs = built
    manifest = read_manifest(directory)
    assert manifest == json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
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


def test_other_model_is_refused_with_rebuild_hint(built: tuple[CorpusIndex, Path, Path]) -> None:
    _, directory, _ = built
    with pytest.raises(IndexMismatchError) as info:
        load_index(directory, model_id="fake-hash-32")
    message = str(info.value)
    assert "fake-hash-64" in message and "fake-hash-32" in message
    assert f"qa index PATH --index {directory} --rebuild" in message

    with pytest.raises(IndexMismatchError, match="--rebuild"):
        open_for_update(directory, FakeEncoder(32))
    # rebuilding starts from an empty index of the new model
    fresh, reusable = open_for_update(directory, FakeEncoder(32), rebuild=True)
    assert (fresh.model_id, fresh.dim, len(fresh.chunks), reusable) == ("fake-hash-32", 32, 0, False)


def test_other_format_version_is_refused(built: tuple[CorpusIndex, Path, Path], encoder: FakeEncoder) -> None:
    _, directory, _ = built
    path = directory / "manifest.json"
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


def _fail_on_call(n: int, real: Callable[..., Any]) -> Callable[..., Any]:
    """``real``, except that its ``n``-th call does the write and then raises (a crash mid-save)."""
    calls = {"n": 0}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        result = real(*args, **kwargs)
        if calls["n"] == n:
            raise RuntimeError("disk on fire")
        return result

    return wrapper


@pytest.mark.parametrize("where", ["documents", "chunks", "vectors"])
def test_crash_mid_write_keeps_previous_index(
    built: tuple[CorpusIndex, Path, Path],
    encoder: FakeEncoder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    _, directory, docs = built
    before = snapshot(directory)
    expected_hits = hits_of(load_index(directory, model_id=encoder.model_id), encoder)

    (docs / "solar.md").unlink()
    (docs / "new.txt").write_text("新的文件。里面有两句话。\n", encoding="utf-8")
    if where == "vectors":
        monkeypatch.setattr(FaissIndex, "save", _fail_on_call(1, FaissIndex.save))
    else:  # documents.jsonl is written first, chunks.jsonl second
        monkeypatch.setattr(
            index_store, "_write_jsonl", _fail_on_call(1 if where == "documents" else 2, index_store._write_jsonl)
        )
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache, pytest.raises(RuntimeError, match="disk on fire"):
        build_index([docs], directory, encoder, cache)

    assert snapshot(directory) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp dir left
    reloaded = load_index(directory, model_id=encoder.model_id)
    assert set(reloaded.documents) == set(DOCS)
    assert hits_of(reloaded, encoder) == expected_hits

    monkeypatch.undo()  # the next save goes through and replaces the index
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        build_index([docs], directory, encoder, cache)
    assert set(load_index(directory).documents) == {"park.txt", "notes/cafe.txt", "new.txt"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".index")]


def _drop(name: str) -> Callable[[Path], None]:
    def damage(directory: Path) -> None:
        found = sorted(directory.rglob(name))
        assert found, name
        found[0].unlink()

    return damage


def _garble(name: str) -> Callable[[Path], None]:
    def damage(directory: Path) -> None:
        found = sorted(directory.rglob(name))
        assert found, name
        for path in found:
            path.write_text("{broken\n", encoding="utf-8")

    return damage


def _orphan_chunk(directory: Path) -> None:
    rows = (directory / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    row = json.loads(rows[0])
    row["source"] = "gone.txt"
    (directory / "chunks.jsonl").write_text("\n".join([json.dumps(row), *rows[1:]]) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    "damage",
    [
        _drop("chunks.jsonl"),
        _drop("documents.jsonl"),
        _drop("vectors.faiss"),
        _garble("manifest.json"),
        _garble("documents.jsonl"),
        _garble("vectors.faiss"),
        _orphan_chunk,
    ],
    ids=["no-chunks", "no-documents", "no-vectors", "bad-manifest", "bad-documents", "bad-vectors", "orphan-chunk"],
)
def test_damaged_index_is_refused_with_rebuild_hint(
    built: tuple[CorpusIndex, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    damage: Callable[[Path], None],
) -> None:
    _, directory, _ = built
    damage(directory)
    with pytest.raises(IndexMismatchError, match=r"--rebuild$"):
        load_index(directory)

    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cli-cache"))
    result = CliRunner().invoke(app, ["ask", "园区在哪里？", "--index", str(directory), "--model", "fake"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {directory}: ")


def test_query_load_refuses_another_tokenizer_version(tmp_path: Path) -> None:
    """Stored lexical tokens from another tokenizer would not match the query's tokens."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("园区有企业120家。\n", encoding="utf-8")
    build_index([docs], tmp_path / "index", FakeEncoder(), None)
    manifest_path = tmp_path / "index" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["tokenizer_version"] = "0"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="qa index"):
        load_index(tmp_path / "index")
    assert load_index(tmp_path / "index", for_query=False).chunks
