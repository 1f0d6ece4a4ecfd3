"""The segmented index: round trip, incremental writes equal a rebuild, ANN, visibility and isolation of writes."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from api.app import create_app
from embeddings import FakeEncoder
from embeddings.vector_index.segment import (
    ANN_THRESHOLD,
    Excluded,
    SegmentVectors,
    default_nprobe,
    ivf_lists,
    resolve_kind,
    write_segment_vectors,
)
from qa.cli import app
from qa.engine import Engine
from qa.errors import IndexMismatchError, NotFoundError
from qa.index import CorpusIndex, generations, layout, save_index, update_index
from qa.index import segment_writes as writes
from qa.index.generations import open_segmented
from qa.ingest import parse_document
from qa.search import RetrievalConfig
from qa.settings import Settings
from qa.types import Document
from tests.sample_docs import PARK_TXT, SOLAR_MD

ENCODER = FakeEncoder()
QUESTIONS = ["园区范围", "How many engineers?", "熊猫馆几点开门", "产值"]
POOL = {
    "park.txt": PARK_TXT,
    "solar.md": SOLAR_MD,
    "zoo.txt": "动物园简介\n\n熊猫馆每天九点开门。园区共有熊猫12只。\n",
    "cafe.txt": "咖啡馆早上八点开门。\n每杯咖啡售价30元。\n",
    "tax.txt": "2021年园区税收达到5亿元，同比增长12%。\n",
    "empty.txt": "",
}


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests check what is written, not that it reaches the disk: skip the flushes."""
    monkeypatch.setattr(generations, "DURABLE", False)


def doc(doc_id: str, text: str | None = None) -> Document:
    return parse_document(doc_id, POOL[doc_id] if text is None else text)


def contents(index: object) -> dict[str, object]:
    """What an index holds, independent of the chunk ids it assigned."""
    out: dict[str, object] = {}
    for doc_id in sorted(index.documents):  # type: ignore[attr-defined]
        d = index.document(doc_id)  # type: ignore[attr-defined]
        ids = np.array(d.chunk_ids, dtype=np.int64)
        vectors = [v.vectors(ids).tobytes() for v in (index.sentence_index, index.context_index)]  # type: ignore[attr-defined]
        chunks = [(c.chunk, c.key, c.context_key) for c in (index.chunks[i] for i in d.chunk_ids)]  # type: ignore[attr-defined]
        out[doc_id] = (d.original, d.checksum, d.meta, chunks, vectors)
    return out


def ranked(index: object, question: str) -> list[tuple[str, str, int, int, float]]:
    hits = Engine(index, ENCODER, RetrievalConfig()).ask(question, 20)  # type: ignore[arg-type]
    return [(h.chunk.source, h.chunk.text, h.chunk.start, h.chunk.end, round(h.score, 4)) for h in hits]


def test_round_trip_equals_the_in_memory_index(tmp_path: Path) -> None:
    docs = [doc(i) for i in POOL]
    built, embedded, _ = writes.build_segmented(tmp_path / "idx", docs, ENCODER, None)
    memory = CorpusIndex.empty(ENCODER.model_id, ENCODER.dim)
    update_index(memory, docs, ENCODER, None)
    reopened = open_segmented(tmp_path / "idx", model_id=ENCODER.model_id)
    assert embedded > 0
    assert contents(reopened) == contents(built) == contents(memory)
    for question in QUESTIONS:
        assert ranked(reopened, question) == ranked(memory, question)
    for d in docs:
        for chunk in reopened.document_chunks(d.id):
            assert d.original[chunk.start : chunk.end] == chunk.cited


_OPS = st.lists(
    st.tuples(st.sampled_from(["put", "delete"]), st.sampled_from(sorted(POOL)), st.integers(0, 2)),
    min_size=1,
    max_size=8,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS)
def test_incremental_writes_equal_a_rebuild(tmp_path_factory: pytest.TempPathFactory, ops: list) -> None:
    root = tmp_path_factory.mktemp("inc")
    live: dict[str, str] = {"park.txt": POOL["park.txt"]}
    index, _, _ = writes.build_segmented(root / "inc", [doc("park.txt")], ENCODER, None)
    old_max, old_count = writes.MAX_SEGMENTS, writes.MERGE_COUNT
    writes.MAX_SEGMENTS, writes.MERGE_COUNT = 3, 2  # merges happen within a few writes
    try:
        for op, doc_id, variant in ops:
            if op == "delete" and doc_id not in live:
                with pytest.raises(NotFoundError):
                    writes.apply_changes(root / "inc", index, [], [doc_id], ENCODER, None)
                continue
            if op == "delete":
                index, *_ = writes.apply_changes(root / "inc", index, [], [doc_id], ENCODER, None)
                del live[doc_id]
            else:
                text = POOL[doc_id] + "补充说明。\n" * variant
                index, *_ = writes.apply_changes(root / "inc", index, [doc(doc_id, text)], [], ENCODER, None)
                live[doc_id] = text
    finally:
        writes.MAX_SEGMENTS, writes.MERGE_COUNT = old_max, old_count
    rebuilt, _, _ = writes.build_segmented(root / "full", [doc(i, t) for i, t in sorted(live.items())], ENCODER, None)
    reopened = open_segmented(root / "inc")
    assert contents(reopened) == contents(index) == contents(rebuilt)
    for question in QUESTIONS:  # the same hits (a repeated sentence may be cited at either copy), same scores
        got, want = ranked(reopened, question), ranked(rebuilt, question)
        assert sorted(h[:2] for h in got) == sorted(h[:2] for h in want)
        assert sorted(h[4] for h in got) == pytest.approx(sorted(h[4] for h in want), abs=2e-4)


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_an_ann_index_returns_the_flat_top_hit(tmp_path: Path, kind: str) -> None:
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(40, 64))
    data = centres[rng.integers(0, 40, 6000)] + 0.3 * rng.normal(size=(6000, 64))
    data = (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)
    assert write_segment_vectors(tmp_path / "ann.faiss", data, kind) == kind  # type: ignore[arg-type]
    assert write_segment_vectors(tmp_path / "flat.faiss", data, "flat") == "flat"
    ann, flat = SegmentVectors(tmp_path / "ann.faiss"), SegmentVectors(tmp_path / "flat.faiss")
    assert ann.kind == kind and flat.kind == "flat"
    queries = data[rng.choice(6000, 50, replace=False)] + 0.05 * rng.normal(size=(50, 64)).astype(np.float32)
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    assert (ann.search(queries, 10)[1][:, 0] == flat.search(queries, 10)[1][:, 0]).all()
    assert np.abs(ann.reconstruct(np.arange(20)) - data[:20]).max() < (1e-3 if kind == "ivf" else 5e-3)  # fp16, 8-bit
    exact = flat.search(queries, 10)[1]
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ann.search(queries, 10)[1], exact, strict=True)]) >= 0.95
    gone = Excluded(exact[:, 0].copy())
    assert not set(ann.search(queries, 10, gone)[1].ravel()) & set(exact[:, 0])
    if kind == "ivf":
        assert SegmentVectors(tmp_path / "ann.faiss", nprobe=3)._index.nprobe == 3


def test_auto_is_exact_below_the_threshold_and_hnsw_from_it() -> None:
    assert resolve_kind("auto", ANN_THRESHOLD - 1) == "flat"
    assert resolve_kind("auto", ANN_THRESHOLD) == "hnsw"
    assert resolve_kind("hnsw", 100) == "flat"  # too few vectors for a graph worth having


@pytest.mark.parametrize("kind", ["auto", "ivf"])
def test_a_merge_that_reaches_the_ann_threshold_gets_an_ann_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    from embeddings.vector_index import segment as vectors

    monkeypatch.setattr(vectors, "ANN_THRESHOLD", 100)
    monkeypatch.setattr(vectors, "MIN_IVF", 100)
    monkeypatch.setattr(writes, "MAX_SEGMENTS", 2)
    monkeypatch.setattr(writes, "MERGE_COUNT", 2)
    many = {f"d{i}.txt": "".join(f"第{i}篇第{j}句。" for j in range(90 if i == 3 else 45)) + "\n" for i in range(4)}
    index, _, _ = writes.build_segmented(tmp_path / "idx", [doc("d0.txt", many["d0.txt"])], ENCODER, None, nprobe=3)
    for name in ("d1.txt", "d2.txt"):
        index, *_ = writes.apply_changes(
            tmp_path / "idx",
            index,
            [doc(name, many[name])],
            [],
            ENCODER,
            None,
            kind=kind,  # type: ignore[arg-type]
        )
    kinds = [(p.segment.rows, p.segment.sentence.kind) for p in open_segmented(tmp_path / "idx").parts]
    assert sorted(kinds) == [(45, "flat"), (90, "flat")]  # two segments of 45 merged: under the threshold
    index, *_ = writes.apply_changes(
        tmp_path / "idx",
        index,
        [doc("d3.txt", many["d3.txt"])],
        [],
        ENCODER,
        None,
        kind=kind,  # type: ignore[arg-type]
    )
    want = "hnsw" if kind == "auto" else "ivf"
    merged = [p.segment for p in index.parts if p.segment.rows >= 100 and p.segment.sentence.kind == want]
    assert len(merged) == 1
    if kind == "ivf":  # the merged segment searches the lists the index was opened with
        assert merged[0].sentence._index.nprobe == 3
    reopened = open_segmented(tmp_path / "idx")
    assert ranked(reopened, "第1篇第3句")[0][1] == "第1篇第3句。"


def test_the_lists_searched_grow_with_the_lists() -> None:
    assert [default_nprobe(n) for n in (64, 128, 256, 512, 1024, 4096)] == [32, 32, 64, 64, 128, 512]
    assert [ivf_lists(n) for n in (10_000, 100_000, 1_000_000)] == [128, 256, 1024]


def test_a_write_is_visible_to_the_next_read_and_a_delete_never_comes_back(tmp_path: Path) -> None:
    index, _, _ = writes.build_segmented(tmp_path / "idx", [doc("park.txt"), doc("solar.md")], ENCODER, None)
    index, *_ = writes.apply_changes(tmp_path / "idx", index, [doc("zoo.txt")], [], ENCODER, None)
    assert ranked(index, "熊猫馆每天九点开门")[0][0] == "zoo.txt"
    index, *_ = writes.apply_changes(tmp_path / "idx", index, [], ["zoo.txt", "solar.md"], ENCODER, None)
    for view in (index, open_segmented(tmp_path / "idx")):
        assert sorted(view.documents) == ["park.txt"]
        assert all(source == "park.txt" for q in QUESTIONS for source, *_ in ranked(view, q))
    with pytest.raises(NotFoundError):
        writes.apply_changes(tmp_path / "idx", index, [], ["zoo.txt"], ENCODER, None)


def test_a_reader_never_sees_a_half_applied_write(tmp_path: Path) -> None:
    versions = ["甲版本第一句。甲版本第二句。甲版本第三句。\n", "乙版本第一句。乙版本第二句。\n"]
    index, _, _ = writes.build_segmented(
        tmp_path / "idx", [doc("park.txt"), doc("cafe.txt", versions[0])], ENCODER, None
    )
    seen: list[tuple[int, frozenset[str], int]] = []
    done = threading.Event()

    def write() -> None:
        current = index
        for i in range(12):
            current, *_ = writes.apply_changes(
                tmp_path / "idx", current, [doc("cafe.txt", versions[(i + 1) % 2])], [], ENCODER, None
            )
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    while not done.is_set() or not seen:
        view = open_segmented(tmp_path / "idx")
        texts = frozenset(c.text[:3] for c in view.document_chunks("cafe.txt"))
        seen.append((len(view.documents), texts, len(view.chunks)))
    writer.join()
    park = len(index.document("park.txt").chunk_ids)
    assert all(n == 2 for n, _, _ in seen)
    assert all(texts in ({"甲版本"}, {"乙版本"}) for _, texts, _ in seen)
    assert all(chunks == park + (3 if texts == {"甲版本"} else 2) for _, texts, chunks in seen)


def test_old_format_index_directories_are_refused_with_the_rebuild_message(tmp_path: Path) -> None:
    legacy = CorpusIndex.empty(ENCODER.model_id, ENCODER.dim)
    update_index(legacy, [doc("park.txt")], ENCODER, None)
    save_index(legacy, tmp_path / "old")
    with pytest.raises(IndexMismatchError, match=r"format 3 is not 5.*--rebuild"):
        open_segmented(tmp_path / "old")
    args = ["ask", "园区在哪里？", "--index", str(tmp_path / "old"), "--model", "fake"]
    result = CliRunner().invoke(app, args, env={"QA_INDEX_BACKEND": "segments"})
    assert result.exit_code != 0 and "--rebuild" in result.output and "Traceback" not in result.output


def server_settings(tmp_path: Path, corpus: Path, **extra: object) -> Settings:
    """A server's settings over a segmented index under ``tmp_path`` of ``corpus`` (writes take the key "k")."""
    values: dict[str, object] = {"index_dir": tmp_path / "index", "cache_dir": tmp_path / "cache", "corpus": corpus}
    values |= {"model": "fake", "api_key": "k", "index_backend": "segments", **extra}
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_the_api_writes_to_a_segmented_index_and_a_restart_serves_them(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "park.txt").write_text(PARK_TXT, encoding="utf-8")
    settings = server_settings(tmp_path, folder, no_answer_cosine=0.0)
    key = {"X-API-Key": "k"}
    zoo = {"id": "zoo.txt", "text": POOL["zoo.txt"]}
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/documents", json=zoo, headers=key).status_code == 201
        hits = client.post("/v1/ask", json={"question": "熊猫馆每天九点开门", "top_k": 3}).json()["hits"]
        assert hits[0]["source"] == "zoo.txt" and POOL["zoo.txt"][hits[0]["start"] : hits[0]["end"]] == hits[0]["text"]
        assert client.delete("/v1/documents/park.txt", headers=key).status_code == 200
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").json()["documents"] == 1
        hits = client.post("/v1/ask", json={"question": "园区范围", "top_k": 5}).json()["hits"]
        assert all(h["source"] == "zoo.txt" for h in hits)
    assert open_segmented(tmp_path / "index").manifest["format_version"] == generations.FORMAT_VERSION


def _nprobes(index: object) -> set[int]:
    """The IVF lists searched by each IVF vector file of a segmented index."""
    vectors = [v for p in index.parts for v in (p.segment.sentence, p.segment.context)]  # type: ignore[attr-defined]
    return {int(v._index.nprobe) for v in vectors if v.kind == "ivf"}


def test_the_configured_nprobe_survives_the_first_build_writes_and_reopening(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for d in range(8):
        text = "".join(f"第{d}号园区{2000 + j}年新增企业{d * 100 + j}家。" for j in range(100))
        (folder / f"park{d}.txt").write_text(text + "\n", encoding="utf-8")
    settings = server_settings(tmp_path, folder, vector_index="ivf", ivf_nprobe=5)
    app, directory = create_app(settings), tmp_path / "index"
    with TestClient(app) as client:
        state = app.state.qa
        assert _nprobes(state.engine.index) == {5}  # built on the first run
        other = open_segmented(directory)  # another process commits a write
        writes.apply_changes(directory, other, [doc("zoo.txt")], [], ENCODER, None)
        assert state.refresh() and _nprobes(state.engine.index) == {5}
        writes.apply_changes(directory, other, [doc("cafe.txt")], [], ENCODER, None)
        tax = {"text": POOL["tax.txt"]}
        assert client.put("/v1/documents/tax.txt", json=tax, headers={"X-API-Key": "k"}).status_code == 201
        assert _nprobes(state.engine.index) == {5}
        stale = state.engine
        writes.apply_changes(directory, open_segmented(directory), [doc("park.txt")], [], ENCODER, None)
        assert _nprobes(stale.with_changes([doc("solar.md")]).index) == {5}  # reopened under the writer lock


def test_a_pointer_left_by_a_crashed_commit_is_removed_by_the_next_writer(tmp_path: Path) -> None:
    directory = tmp_path / "idx"
    index, _, _ = writes.build_segmented(directory, [doc("park.txt")], ENCODER, None)
    stale = directory / ".CURRENT.4242.140000.tmp"  # a commit killed between writing it and its rename
    stale.write_text("gen-000009\n", encoding="utf-8")
    index, _, _ = writes.apply_changes(directory, index, [doc("zoo.txt")], [], ENCODER, None)
    assert not stale.exists() and sorted(open_segmented(directory).documents) == ["park.txt", "zoo.txt"]
    assert index.generation == (directory / "CURRENT").read_text(encoding="utf-8").strip()


def test_pointers_are_only_cleaned_up_by_the_writer_lock_holder(tmp_path: Path) -> None:
    directory = tmp_path / "idx"
    writes.build_segmented(directory, [doc("park.txt")], ENCODER, None)
    pending = directory / ".CURRENT.4242.140000.tmp"
    pending.write_text("gen-000002\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="writer lock"):
        generations.remove_unused(directory)
    seen: list[bool] = []
    with layout.writing(directory):  # a writer in another thread waits for the lock before it cleans anything up
        thread = threading.Thread(target=lambda: seen.append(layout.holds_lock(directory)))
        thread.start()
        thread.join()
        assert pending.exists() and seen == [False] and layout.holds_lock(directory)
        generations.remove_unused(directory)
    assert not pending.exists() and not layout.holds_lock(directory)
