"""The seed corpus: identical to the shared copy, chunked with exact offsets, gold spans inside one chunk."""

from __future__ import annotations

import json
from functools import cache
from itertools import pairwise
from pathlib import Path

import pytest

from qa.ingest import HARD_CAP, iter_documents, segment
from qa.types import Chunk, Document

REPO = Path(__file__).resolve().parents[3]
SEEDS = REPO / "seeds"
SHARED = REPO.parent / "shared"
SHARED_SEEDS = SHARED / "seeds"
GOLD_FILES = ("seed_questions_dev.jsonl", "seed_claims_dev.jsonl")

needs_shared = pytest.mark.skipif(not SHARED_SEEDS.is_dir(), reason=f"shared checkout not found at {SHARED}")


@cache
def corpus() -> dict[str, tuple[Document, list[Chunk]]]:
    return {doc.id: (doc, segment(doc)) for doc in iter_documents([SEEDS])}


def gold_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for name in GOLD_FILES:
        path = SHARED / "eval" / name
        if path.is_file():
            rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def test_five_seed_files() -> None:
    assert sorted(p.name for p in SEEDS.iterdir() if p.is_file()) == sorted(corpus())
    assert len(corpus()) == 5


@needs_shared
def test_seeds_equal_shared_copy() -> None:
    ours = sorted(p.name for p in SEEDS.iterdir() if p.is_file())
    theirs = sorted(p.name for p in SHARED_SEEDS.iterdir() if p.is_file())
    assert ours == theirs
    for name in ours:
        assert (SEEDS / name).read_bytes() == (SHARED_SEEDS / name).read_bytes(), f"seeds/{name} differs"


def test_seed_chunks_cite_exactly() -> None:
    for name, (doc, chunks) in corpus().items():
        assert chunks, name
        with (SEEDS / name).open(encoding="utf-8") as handle:
            assert doc.original == handle.read()
        for chunk in chunks:
            assert doc.original[chunk.start : chunk.end] == chunk.cited
            assert len(chunk.cited) <= HARD_CAP and len(chunk.text) <= HARD_CAP
            assert any(c.isalnum() for c in chunk.text)
        assert all(a.end <= b.start for a, b in pairwise(chunks))


@needs_shared
def test_gold_files_present() -> None:
    for name in GOLD_FILES:
        assert (SHARED / "eval" / name).is_file(), name
    assert len(gold_rows()) >= 10


@needs_shared
def test_gold_spans_match_the_seeds() -> None:
    for row in gold_rows():
        doc, _ = corpus()[str(row["source"])]
        start, end = int(str(row["start"])), int(str(row["end"]))
        assert doc.original[start:end] == row["answer"], row["id"]


@needs_shared
def test_every_gold_span_lies_inside_exactly_one_chunk() -> None:
    for row in gold_rows():
        _, chunks = corpus()[str(row["source"])]
        start, end = int(str(row["start"])), int(str(row["end"]))
        holders = [c for c in chunks if c.start <= start and end <= c.end]
        assert len(holders) == 1, f"{row['id']}: {row['answer']!r} is in {len(holders)} chunks"
        assert str(row["answer"]).strip() in holders[0].cited


def test_seed_metadata() -> None:
    docs = {name[:3]: doc for name, (doc, _) in corpus().items()}
    assert docs["001"].meta.title == "西湖区加快培育数字经济生态圈"
    assert docs["001"].meta.date == "2022-03-17"
    assert docs["002"].meta.date == "2024-11-25"
    assert docs["002"].meta.title.startswith("关于印发《渝中区推动现代生产性服务业高质量发展实施方案")
    assert docs["000"].meta.title == "上清寺构筑“互联网+服务业”高地"
    for doc in docs.values():
        assert doc.meta.title and "\n" not in doc.meta.title and "<" not in doc.meta.title
