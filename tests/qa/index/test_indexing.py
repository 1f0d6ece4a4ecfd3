"""Incremental indexing: same contents as a rebuild, nothing re-embedded without need, removals stick."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from embeddings.cache import EmbeddingCache
from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.cli import app
from qa.engine import Engine
from qa.errors import InputError
from qa.index import CorpusIndex, directory_state, load_index, update_index
from qa.ingest import context_label, iter_documents, parse_document, segment
from qa.search import RetrievalConfig
from qa.types import Document
from tests.sample_docs import PARK_TXT, SOLAR_MD

V1 = {
    "park.txt": PARK_TXT,
    "solar.md": SOLAR_MD,
    "zoo.txt": "动物园公告\n\n熊猫馆周一闭馆维修。长颈鹿每天下午三点喂食。\n",
}
# v2: solar.md edited, zoo.txt removed, cafe.txt added, park.txt untouched
V2 = {
    "park.txt": V1["park.txt"],
    "solar.md": V1["solar.md"].replace("45 engineers", "52 engineers").replace("every spring", "every autumn"),
    "sub/cafe.txt": "咖啡馆笔记\n\n这家咖啡馆在解放碑附近。它每天早上八点开门。\n",
}


class RecordingEncoder:
    """A FakeEncoder that remembers every text it was asked to embed as a document."""

    def __init__(self) -> None:
        self._inner = FakeEncoder()
        self.model_id = self._inner.model_id
        self.dim = self._inner.dim
        self.documents: list[str] = []

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._inner.encode_queries(texts)

    def encode_documents(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        self.documents.extend(texts)
        return self._inner.encode_documents(texts)


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    """Make ``folder`` hold exactly ``docs``."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.rglob("*"):
        if path.is_file() and path.relative_to(folder).as_posix() not in docs:
            path.unlink()
    for name, text in docs.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def contents(index: CorpusIndex) -> dict[str, object]:
    """Everything an index holds, independent of the chunk ids it happened to assign."""
    docs = {
        d.id: (d.original, d.checksum, d.meta, [index.chunks[i].chunk for i in d.chunk_ids])
        for d in index.documents.values()
    }
    chunks = {}
    for chunk_id, item in index.chunks.items():
        c = item.chunk
        ids = np.array([chunk_id], dtype=np.int64)
        vectors = tuple(view.vectors(ids)[0].tobytes() for view in (index.sentence_index, index.context_index))
        chunks[(c.source, c.index)] = (
            c.start,
            c.end,
            c.text,
            c.cited,
            item.tokens,
            item.key,
            item.context_key,
            vectors,
        )
    assert len(index.sentence_index) == len(index.context_index) == len(index.chunks)
    assert sorted(i for d in index.documents.values() for i in d.chunk_ids) == sorted(index.chunks)
    return {"documents": docs, "chunks": chunks}


def ranked(index: CorpusIndex, question: str) -> list[tuple[str, int, int, float]]:
    hits = Engine(index, FakeEncoder(), RetrievalConfig()).ask(question, 50)
    return sorted((h.chunk.source, h.chunk.start, h.chunk.end, round(h.score, 4)) for h in hits)


def test_incremental_update_equals_full_rebuild(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", V1)
    encoder = FakeEncoder()
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        build_index([docs], tmp_path / "inc", encoder, cache)
        write_docs(docs, V2)
        _, summary = build_index([docs], tmp_path / "inc", encoder, cache)
    assert (summary.added, summary.updated, summary.removed, summary.unchanged) == (1, 1, 1, 1)
    _, full_summary = build_index([docs], tmp_path / "full", encoder, None, rebuild=True)
    assert full_summary.added == len(V2)
    assert summary.sentences == full_summary.sentences

    incremental, full = load_index(tmp_path / "inc"), load_index(tmp_path / "full")
    assert set(incremental.documents) == set(V2)
    assert contents(incremental) == contents(full)
    for question in ["How many engineers?", "咖啡馆几点开门？", "动物园熊猫馆", "园区范围"]:
        assert ranked(incremental, question) == ranked(full, question)


def test_unchanged_reindex_embeds_nothing(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", V1)
    encoder = RecordingEncoder()
    _, first = build_index([docs], tmp_path / "index", encoder, None)
    assert first.embedded == len(encoder.documents) == len(set(encoder.documents)) >= first.sentences > 0
    before = contents(load_index(tmp_path / "index"))
    encoder.documents.clear()

    _, again = build_index([docs], tmp_path / "index", encoder, None)  # no cache: the index itself is reused
    assert encoder.documents == []
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, len(V1))
    assert (again.embedded, again.reused) == (0, 0)
    assert again.sentences == first.sentences
    assert contents(load_index(tmp_path / "index")) == before


def test_documents_with_metadata_are_unchanged_after_a_save(tmp_path: Path) -> None:
    """Metadata goes through manifest/documents.jsonl; an empty field must not look like a change."""
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        '{"id": "a", "title": "甲", "text": "第一句话。第二句话。", "url": "", "lang": "zh"}\n'
        '{"id": "b", "title": "B", "text": "Hello there. A second one.", "url": "http://x", "date": "2020-01-02"}\n',
        encoding="utf-8",
    )
    front = tmp_path / "front.md"
    front.write_text("---\ntitle: Front\nauthor: Me\ntags: [a, b]\n---\n# Head\n\nOne. Two.\n", encoding="utf-8")
    encoder = RecordingEncoder()
    build_index([corpus, front], tmp_path / "index", encoder, None)
    encoder.documents.clear()
    _, again = build_index([corpus, front], tmp_path / "index", encoder, None)
    assert (again.unchanged, again.updated, again.embedded) == (3, 0, 0)
    assert encoder.documents == []
    assert load_index(tmp_path / "index").documents["front.md"].meta.extra == {"tags": "a, b"}


def embedded_texts(doc: Document) -> list[str]:
    """What the index embeds for a document: every sentence, then each distinct label (title and heading)."""
    chunks = segment(doc)
    return [c.text for c in chunks] + sorted({label for c in chunks if (label := context_label(c, doc.meta))})


def test_one_changed_sentence_reembeds_only_changed_texts(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", V1)
    encoder = RecordingEncoder()
    old_doc = next(d for d in iter_documents([docs]) if d.id == "park.txt")
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        build_index([docs], tmp_path / "index", encoder, cache)
        encoder.documents.clear()
        changed = dict(V1, **{"park.txt": V1["park.txt"].replace("新增企业300家", "新增企业350家")})
        write_docs(docs, changed)
        _, summary = build_index([docs], tmp_path / "index", encoder, cache)

    new_doc = next(d for d in iter_documents([docs]) if d.id == "park.txt")
    old_texts, new_texts = embedded_texts(old_doc), embedded_texts(new_doc)
    expected = [t for t in new_texts if t not in old_texts]
    # only the edited sentence: context vectors are composed from vectors already in the cache
    assert len(expected) == 1
    assert "350" in expected[0]
    assert encoder.documents == expected
    assert (summary.added, summary.updated, summary.removed, summary.unchanged) == (0, 1, 0, 2)
    assert summary.embedded == 1
    assert summary.embedded + summary.reused == len(new_texts)


def test_removed_document_never_comes_back(tmp_path: Path) -> None:
    # zoo's first sentence is also in park.txt, so a stale copy could come back through also_at
    shared = "熊猫馆周一闭馆维修。"
    docs = write_docs(tmp_path / "docs", dict(V1, **{"park.txt": V1["park.txt"] + "\n" + shared + "\n"}))
    encoder = FakeEncoder()
    questions = ["熊猫馆周一闭馆维修吗？", "长颈鹿每天下午三点喂食", "动物园公告"]

    def locations(index: CorpusIndex) -> set[str]:
        engine = Engine(index, encoder, RetrievalConfig())
        return {
            source
            for q in questions
            for hit in engine.ask(q, 50)
            for source in (hit.chunk.source, *(loc.source for loc in hit.also_at))
        }

    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        index, _ = build_index([docs], tmp_path / "index", encoder, cache)
        assert "zoo.txt" in locations(index)
        (docs / "zoo.txt").unlink()

        kept, summary = build_index([docs], tmp_path / "index", encoder, cache, keep_missing=True)
        assert (summary.removed, summary.unchanged, summary.sentences) == (0, 2, len(index.chunks))
        assert "zoo.txt" in kept.documents and "zoo.txt" in load_index(tmp_path / "index").documents
        texts = [h.chunk.text for h in Engine(kept, encoder, RetrievalConfig()).ask(questions[1], 5)]
        assert "长颈鹿每天下午三点喂食。" in texts

        index, summary = build_index([docs], tmp_path / "index", encoder, cache)
    assert (summary.removed, summary.unchanged) == (1, 2)
    for current in (index, load_index(tmp_path / "index")):
        assert "zoo.txt" not in current.documents
        assert all(item.chunk.source != "zoo.txt" for item in current.chunks.values())
        assert len(current.sentence_index) == len(current.context_index) == len(current.chunks)
        assert "zoo.txt" not in locations(current)
        assert "park.txt" in locations(current)


def test_duplicate_document_ids_are_refused(tmp_path: Path) -> None:
    a = write_docs(tmp_path / "a", {"same.txt": "第一个文件。\n"})
    b = write_docs(tmp_path / "b", {"same.txt": "第二个文件。\n"})
    with pytest.raises(InputError, match=r"same\.txt"):
        build_index([a, b], tmp_path / "index", FakeEncoder(), None)
    assert directory_state(tmp_path / "index") == "empty"  # the writer lock is there, no index

    index = CorpusIndex.empty("fake-hash-64", 64)
    docs = [parse_document("x", "一句话。"), parse_document("y", "另一句。"), parse_document("x", "又一句。")]
    with pytest.raises(InputError, match=r"'x'.*twice"):
        update_index(index, docs, FakeEncoder(), None)


runner = CliRunner()


def test_cli_index_prints_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    docs = write_docs(tmp_path / "docs", V1)
    args = ["index", str(docs), "--index", str(tmp_path / "index"), "--model", "fake"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "documents: 3 added, 0 updated, 0 removed, 0 unchanged" in result.stderr
    assert (tmp_path / "cache" / "embeddings.sqlite").is_file()
    assert set(load_index(tmp_path / "index", model_id="fake-hash-64").documents) == set(V1)

    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "0 added, 0 updated, 0 removed, 3 unchanged" in result.stderr
    assert " 0 embedded" in result.stderr


def test_cli_index_missing_path_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    missing = tmp_path / "no-such-folder"
    result = runner.invoke(app, ["index", str(missing), "--index", str(tmp_path / "index"), "--model", "fake"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and str(missing) in lines[0]
    assert "Traceback" not in result.output
    assert directory_state(tmp_path / "index") == "empty"  # the writer lock is there, no index
