"""The store an index uses (QA_INDEX_BACKEND=auto) and what both stores must answer alike."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.cli import app
from qa.engine import Engine
from qa.errors import IndexMismatchError
from qa.index import choose_store, open_index, original_file, store_of
from qa.index.opening import SEGMENTS_FROM_BYTES, input_bytes
from qa.index.segmented import SegmentedIndex
from qa.ingest import parse_document
from qa.search import RetrievalConfig, load_answerability, load_ranker
from qa.types import Document, SourceFile
from tests.sample_docs import write_docs

DOCS = {
    "park.txt": "两江数字经济产业园\n园区2021年税收约2200万元。\n园区入驻企业达到120家。\n",
    "street.txt": "梦想小街\n梦想小街产业园税收约3100万元。\n",
}


def test_auto_builds_small_input_in_memory_and_large_input_in_segments(tmp_path: Path) -> None:
    small = write_docs(tmp_path / "small", DOCS)
    large = tmp_path / "large.jsonl"
    line = '{"id": "d%d", "text": "%s"}\n'
    large.write_text("".join(line % (i, f"第{i}句话，园区税收{i}万元。" * 8) for i in range(1200)), encoding="utf-8")
    assert input_bytes([small]) < SEGMENTS_FROM_BYTES <= input_bytes([large])
    assert choose_store("auto", tmp_path / "a", [small]) == "memory"
    assert choose_store("auto", tmp_path / "b", [large]) == "segments"
    assert choose_store("segments", tmp_path / "c", [small]) == "segments"
    index, _ = build_index([large], tmp_path / "big", FakeEncoder(), None)
    assert isinstance(index, SegmentedIndex) and store_of(tmp_path / "big") == "segments"


def test_an_existing_index_keeps_its_store_on_update_and_rebuild(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    build_index([docs], tmp_path / "seg", FakeEncoder(), None, backend="segments")
    build_index([docs], tmp_path / "mem", FakeEncoder(), None, backend="memory")
    for name, store in (("seg", "segments"), ("mem", "memory")):
        write_docs(docs, {"new.txt": "新的文件。\n"})
        build_index([docs], tmp_path / name, FakeEncoder(), None)
        build_index([docs], tmp_path / name, FakeEncoder(), None, rebuild=True)
        assert store_of(tmp_path / name) == store
        assert "new.txt" in open_index(tmp_path / name).documents
        result = CliRunner().invoke(app, ["ask", "园区税收", "--index", str(tmp_path / name), "--model", "fake"])
        assert result.exit_code == 0 and "park.txt" in result.output


def test_local_lets_the_index_decide_like_auto(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    build_index([docs], tmp_path / "index", FakeEncoder(), None, backend="segments")
    assert choose_store("local", tmp_path / "index", [docs]) == "segments"
    assert isinstance(open_index(tmp_path / "index", setting="local"), SegmentedIndex)
    assert choose_store("local", tmp_path / "new", [docs]) == "memory"


def test_switching_a_segmented_index_to_memory_leaves_no_segments(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    build_index([docs], tmp_path / "index", FakeEncoder(), None, backend="segments")
    build_index([docs], tmp_path / "index", FakeEncoder(), None, backend="memory", rebuild=True)
    assert store_of(tmp_path / "index") == "memory" and not (tmp_path / "index" / "segments").exists()
    assert set(open_index(tmp_path / "index").documents) == set(DOCS)


def _pdf_like(doc_id: str, text: str) -> Document:
    """A document as a binary reader returns it: pages, and the bytes of its file."""
    plain = parse_document(doc_id, text)
    second = text.index("\n") + 1
    return Document(
        doc_id, plain.original, plain.clean, plain.starts, plain.ends, plain.blocks, plain.meta, (0, second),
        SourceFile("pdf", b"%PDF-1.4 " + text.encode("utf-8")),
    )  # fmt: skip


@pytest.mark.parametrize("backend", ["memory", "segments"])
def test_both_stores_answer_alike(tmp_path: Path, backend: str) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    encoder = FakeEncoder()
    index, _ = build_index([docs], tmp_path / "index", encoder, None, backend=backend)  # type: ignore[arg-type]
    engine = Engine(index, encoder, RetrievalConfig())
    upload = _pdf_like("report.pdf", "年度报告\n园区2022年税收约2600万元。\n")
    engine = engine.with_changes([upload], ["street.txt"])
    if backend == "memory":
        from qa.index import save_index

        save_index(engine.index, tmp_path / "index")  # type: ignore[arg-type]
    reopened = open_index(tmp_path / "index", model_id=encoder.model_id)
    assert set(reopened.documents) == {"park.txt", "report.pdf"}
    for doc_id in reopened.documents:
        doc = reopened.document(doc_id)
        for chunk in reopened.document_chunks(doc_id):
            assert doc.original[chunk.start : chunk.end] == chunk.cited
    report = reopened.document("report.pdf")
    assert report.pages == (0, 5) and report.file_kind == "pdf"
    assert original_file(reopened, tmp_path / "index", report) == upload.file.data  # type: ignore[union-attr]
    hit = Engine(reopened, encoder, RetrievalConfig()).ask("园区2022年税收约2600万元。", 3)[0]
    assert (hit.chunk.source, hit.chunk.page) == ("report.pdf", 2)


@pytest.mark.parametrize("backend", ["memory", "segments"])
def test_a_write_keeps_the_engines_ranker_and_answerability_model(tmp_path: Path, backend: str) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    encoder = FakeEncoder()
    index, _ = build_index([docs], tmp_path / "index", encoder, None, backend=backend)  # type: ignore[arg-type]
    reranker, answerability = load_ranker(), load_answerability()
    engine = Engine(index, encoder, RetrievalConfig(), reranker, answerability)
    changed = engine.with_changes([parse_document("new.txt", "新园区\n新园区税收约900万元。\n")], ["street.txt"])
    assert changed.reranker is reranker and changed.answerability is answerability
    assert set(changed.index.documents) == {"park.txt", "new.txt"}


def test_a_damaged_kept_file_in_a_segment_is_refused(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    encoder = FakeEncoder()
    index, _ = build_index([docs], tmp_path / "index", encoder, None, backend="segments")
    upload = _pdf_like("report.pdf", "年度报告\n园区2022年税收约2600万元。\n")
    changed = Engine(index, encoder, RetrievalConfig()).with_changes([upload]).index
    assert isinstance(changed, SegmentedIndex)
    store = changed.parts[-1].segment.folder / "store.sqlite"
    with sqlite3.connect(store) as db:
        db.execute("UPDATE files SET data = ? WHERE id = 'report.pdf'", (b"%PDF-1.4 garbled bytes of equal size?",))
    with pytest.raises(IndexMismatchError, match=r"kept copy of 'report\.pdf' is damaged"):
        original_file(open_index(tmp_path / "index"), None, changed.document("report.pdf"))
