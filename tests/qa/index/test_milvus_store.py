"""The Milvus store itself, on Milvus Lite: version refusal, resumable indexing, updates never half visible."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from embeddings.encoders import FakeEncoder
from qa.errors import IndexBackendError, IndexConflictError, IndexMismatchError, NotFoundError
from qa.index import original_file
from qa.index.milvus import (
    MilvusIndex,
    MilvusTarget,
    check_version,
    filter_expression,
    open_milvus,
    parse_version,
    sync_milvus,
    writes,
)
from qa.index.milvus.documents import content_version
from qa.index.milvus.schema import PLACEHOLDER
from qa.index.segment_writes import prepare_documents
from qa.ingest import iter_documents, parse_document
from qa.search import RetrievalConfig, Retriever
from qa.types import Document, SourceFile
from tests.sample_docs import write_docs

DOCS = {
    "park.txt": "上清寺互联网产业园\n上清寺互联网产业园位于重庆市渝中区。该园区2018年新增企业300家。\n",
    "street.txt": "梦想小街产业园\n梦想小街产业园主体建筑面积约3万平方米。2021年，园区税收约2200万元。\n",
    "harbour.txt": "江北嘴码头\n江北嘴码头2020年货物吞吐量达到450万吨。\n",
}


@pytest.mark.parametrize(
    ("version", "parsed"), [("v2.3.5", (2, 3, 5)), ("2.5.1", (2, 5, 1)), ("milvus_lite-3.2.2", None), ("", None)]
)
def test_versions_are_parsed(version: str, parsed: tuple[int, int, int] | None) -> None:
    assert parse_version(version) == parsed


def test_an_old_server_is_refused_saying_what_is_needed() -> None:
    with pytest.raises(IndexBackendError, match=r"version v2\.3\.5; this index needs Milvus 2\.5 or later \(its BM25"):
        check_version("v2.3.5", "http://127.0.0.1:19530")
    check_version("v2.5.0", "http://127.0.0.1:19530")
    check_version("milvus_lite-3.2.2", "var/milvus.db")


class FailingEncoder(FakeEncoder):
    """The fake encoder, failing once it has embedded ``budget`` batches."""

    def __init__(self, budget: int) -> None:
        super().__init__()
        self.budget = budget

    def encode_documents(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if self.budget <= 0:
            raise KeyboardInterrupt
        self.budget -= 1
        return super().encode_documents(texts)


def test_an_interrupted_index_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("qa.index.milvus.writes.BATCH_DOCUMENTS", 1)
    monkeypatch.setattr("qa.index.milvus.update.BATCH_DOCUMENTS", 1)
    corpus = write_docs(tmp_path / "docs", DOCS)
    target = MilvusTarget(str(tmp_path / "milvus.db"))
    with pytest.raises(KeyboardInterrupt):
        sync_milvus(target, iter_documents([corpus]), FailingEncoder(budget=1), None)
    index, summary = sync_milvus(target, iter_documents([corpus]), FakeEncoder(), None)
    assert (summary.unchanged, summary.added) == (1, 2)
    assert sorted(index.documents) == sorted(DOCS)
    assert len(index.chunks) == sum(len(index.document(d).chunk_ids) for d in DOCS)  # nothing written twice
    _, again = sync_milvus(target, iter_documents([corpus]), FailingEncoder(budget=0), None)
    assert not again.changed  # nothing re-sent, nothing embedded


def test_a_reader_never_sees_half_an_update(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    encoder = FakeEncoder()
    target = MilvusTarget(str(tmp_path / "milvus.db"))
    index, _ = sync_milvus(target, iter_documents([write_docs(tmp_path / "docs", DOCS)]), encoder, None)
    retriever = Retriever(index, encoder, RetrievalConfig())

    def found() -> str:
        return " ".join(index.chunks[s.chunk_id].chunk.text for s in retriever.search_many(["江北嘴码头吞吐量"], 10)[0])

    new = parse_document("harbour.txt", "江北嘴码头\n江北嘴码头2020年货物吞吐量达到600万吨。\n")
    seen: list[str] = []
    real = writes._upsert

    def look_before_the_flip(into: MilvusIndex, collection: str, rows: list[dict[str, Any]]) -> None:
        if collection == into.cols.documents:  # the new version's sentences are all written by now
            seen.append(found())
        real(into, collection, rows)

    monkeypatch.setattr(writes, "_upsert", look_before_the_flip)
    writes.write_document(index, new, prepare_documents([new], encoder, None)[0][0])
    assert seen and "450万吨" in seen[0] and "600万吨" not in seen[0]
    assert "600万吨" in found() and "450万吨" not in found()
    assert index.documents.versions(["harbour.txt"]) == {"harbour.txt": content_version(new)}
    assert open_milvus(target, model_id=encoder.model_id).document("harbour.txt").original == new.original


def test_an_index_of_other_context_vectors_is_refused_then_rebuilt(tmp_path: Path) -> None:
    corpus = write_docs(tmp_path / "docs", DOCS)
    target = MilvusTarget(str(tmp_path / "milvus.db"))
    index, _ = sync_milvus(target, iter_documents([corpus]), FakeEncoder(), None)
    cols = index.cols
    meta = json.loads(cols.client.query(cols.meta, ids=["index"], output_fields=["value"])[0]["value"])
    value = json.dumps({**meta, "context_view": "encoded"})
    cols.client.upsert(cols.meta, [{"id": "index", "value": value, "placeholder": PLACEHOLDER}])
    with pytest.raises(IndexMismatchError, match=r"context vectors made as 'encoded'.*update it with: qa index PATH"):
        open_milvus(target)
    _, summary = sync_milvus(target, iter_documents([corpus]), FakeEncoder(), None)
    assert summary.added == len(DOCS)  # rebuilt whole
    assert sorted(open_milvus(target).documents) == sorted(DOCS)


def test_sentences_removed_mid_question_are_a_conflict_not_a_crash(tmp_path: Path) -> None:
    target = MilvusTarget(str(tmp_path / "milvus.db"))
    index, _ = sync_milvus(target, iter_documents([write_docs(tmp_path / "docs", DOCS)]), FakeEncoder(), None)
    gone = index.document("harbour.txt").chunk_ids
    writes.remove_document(index, "harbour.txt")
    assert gone[0] not in index.chunks and "harbour.txt" not in index.documents
    with pytest.raises(IndexConflictError, match="the index changed while this question was answered"):
        index.chunks.many(list(gone))
    with pytest.raises(IndexConflictError):
        index.sentence_index.vectors(np.array(gone))


def test_filters_run_in_milvus_as_expressions(tmp_path: Path) -> None:
    encoder = FakeEncoder()
    dated = {**DOCS, "notes/space.md": "---\ntitle: U创空间\ndate: 2018-06-01\n---\nU创空间2017年产值约2.5亿元。\n"}
    target = MilvusTarget(str(tmp_path / "milvus.db"))
    index, _ = sync_milvus(target, iter_documents([write_docs(tmp_path / "docs", dated)]), encoder, None)
    query = encoder.encode_queries(["园区的企业"])

    def sources(where: str) -> set[str]:
        _, ids = index.restricted(where).sentence_index.search(query, 50)
        return {index.chunks[int(i)].chunk.source for i in ids[0] if i >= 0}

    assert sources("") == set(dated)
    assert filter_expression({"park.txt", 'a "b".txt'}, None, None) == 'doc in ["a \\"b\\".txt", "park.txt"]'
    assert sources(filter_expression({"park.txt", "street.txt"}, None, None)) == {"park.txt", "street.txt"}
    assert sources(filter_expression(None, "2018-01-01", "2018-12-31")) == {"notes/space.md"}
    assert sources(filter_expression(None, "2019-01-01", None)) == set()


def test_long_texts_are_kept_whole_across_parts(tmp_path: Path) -> None:
    markup = f'<span title="{"注" * 18_000}">入驻</span>'  # the cited span of one sentence: over one VARCHAR part
    body = "<p>上清寺互联网产业园位于重庆市渝中区。</p>" * 1_500
    text = f"<html><body><h1>长文档</h1>{body}<p>该园区{markup}率达到百分之九十。</p></body></html>"
    target = MilvusTarget(str(tmp_path / "milvus.db"))
    docs = iter_documents([write_docs(tmp_path / "docs", {"long.html": text})])
    index, _ = sync_milvus(target, docs, FakeEncoder(), None)
    assert index.document("long.html").original == text and len(text) > 3 * 16_000
    chunks = index.document_chunks("long.html")
    assert all(text[c.start : c.end] == c.cited for c in chunks)
    assert any(markup in c.cited and "入驻率" in c.text for c in chunks)


def test_a_pdf_is_kept_with_its_pages_and_served_back(tmp_path: Path) -> None:
    target = MilvusTarget(str(tmp_path / "milvus.db"))
    index, _ = sync_milvus(target, iter_documents([write_docs(tmp_path / "docs", DOCS)]), FakeEncoder(), None)
    text = "年度报告\n园区2022年税收约2600万元。\n"
    plain = parse_document("report.pdf", text)
    data = b"%PDF-1.4 " + bytes(range(256)) * 300  # binary, over one VARCHAR part once in base64
    upload = Document(
        "report.pdf", plain.original, plain.clean, plain.starts, plain.ends, plain.blocks, plain.meta,
        (0, text.index("\n") + 1), SourceFile("pdf", data),
    )  # fmt: skip
    changed, _, _ = writes.apply_changes(index, [upload], [], FakeEncoder(), None)
    stored = changed.document("report.pdf")
    assert (stored.pages, stored.file_kind) == ((0, 5), "pdf")
    assert original_file(changed, None, stored) == data
    assert [c.page for c in changed.document_chunks("report.pdf")] == [1, 2]
    with pytest.raises(NotFoundError):
        original_file(changed, None, changed.document("park.txt"))


def _rows_of(index: MilvusIndex, doc_id: str) -> dict[str, int]:
    """How many rows of each collection belong to ``doc_id`` (whatever their version)."""
    cols, where = index.cols, f'doc == "{doc_id}"'
    names = [cols.chunks, cols.texts, cols.sentence.name, cols.context.name]
    return {n: len(cols.client.query(n, filter=where, output_fields=["id"])) for n in names}


def _marks(index: MilvusIndex) -> list[dict[str, Any]]:
    return index.cols.client.query(  # type: ignore[no-any-return]
        index.cols.meta, filter=f'id like "{writes.REMOVING}%"', output_fields=["value"]
    )


def _interrupt(*_: object, **__: object) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize("next_write", ["api", "index run"])
def test_a_removal_interrupted_after_its_row_went_is_finished_by_the_next_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, next_write: str
) -> None:
    encoder = FakeEncoder()
    corpus = write_docs(tmp_path / "docs", DOCS)
    target = MilvusTarget(str(tmp_path / "milvus.db"))
    index, _ = sync_milvus(target, iter_documents([corpus]), encoder, None)
    assert index.document("harbour.txt").chunk_ids  # read now: its row is kept for a moment
    monkeypatch.setattr(writes, "_delete_rows", _interrupt)
    with pytest.raises(KeyboardInterrupt):
        writes.apply_changes(index, [], ["harbour.txt"], encoder, None)
    monkeypatch.undo()
    reader = open_milvus(target, model_id=encoder.model_id)
    assert "harbour.txt" not in reader.documents and all(_rows_of(index, "harbour.txt").values())
    hits = Retriever(reader, encoder, RetrievalConfig()).search_many(["江北嘴码头吞吐量"], 10)[0]
    assert hits and all(reader.chunks[s.chunk_id].chunk.source != "harbour.txt" for s in hits)  # invisible meanwhile
    expected = set(DOCS) - {"harbour.txt"}
    if next_write == "api":
        writes.apply_changes(index, [parse_document("zoo.txt", "熊猫馆每天九点开门。\n")], [], encoder, None)
        expected.add("zoo.txt")
    else:
        (corpus / "harbour.txt").unlink()
        sync_milvus(target, iter_documents([corpus]), encoder, None)
    assert not any(_rows_of(index, "harbour.txt").values()) and not _marks(index)
    assert sorted(open_milvus(target).documents) == sorted(expected)


def test_a_removal_interrupted_before_its_row_went_leaves_the_document_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder = FakeEncoder()
    target = MilvusTarget(str(tmp_path / "milvus.db"))
    index, _ = sync_milvus(target, iter_documents([write_docs(tmp_path / "docs", DOCS)]), encoder, None)
    before = _rows_of(index, "harbour.txt")
    real, documents = index.cols.client.delete, index.cols.documents
    monkeypatch.setattr(
        index.cols.client, "delete", lambda name, **kw: _interrupt() if name == documents else real(name, **kw)
    )
    with pytest.raises(KeyboardInterrupt):
        writes.remove_document(index, "harbour.txt")
    monkeypatch.undo()
    assert [m["value"] for m in _marks(index)] == ["harbour.txt"]
    assert writes.finish_removals(index) == [] and _rows_of(index, "harbour.txt") == before  # still served whole
    again = parse_document("harbour.txt", "江北嘴码头\n江北嘴码头2020年货物吞吐量达到600万吨。\n")
    writes.apply_changes(index, [again], [], encoder, None)
    assert index.document("harbour.txt").original == again.original and not _marks(index)
    assert _rows_of(index, "harbour.txt")[index.cols.chunks] == len(index.document("harbour.txt").chunk_ids)
