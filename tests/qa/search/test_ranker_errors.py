"""Where a held-out first hit stands against the gold sentence (scripts/ranker_errors.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

from ranker_errors import first_hits, where

from qa.index import CorpusIndex
from tests.qa.search.fake_index import fake_index

A = "一号句子。二号句子。三号句子。四号句子。五号句子。\n"
B = "另一篇的句子。\n"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> CorpusIndex:
    built, _ = fake_index(tmp_path_factory.mktemp("errors"), {"a.txt": A, "b.txt": B})
    return built


def ids_of(index: CorpusIndex, source: str) -> list[int]:
    """The chunk ids of one document, in sentence order."""
    return [i for i in range(len(index.chunks)) if index.chunks[i].chunk.source == source]


def test_each_kind_of_first_hit(index: CorpusIndex) -> None:
    a, b = ids_of(index, "a.txt"), ids_of(index, "b.txt")
    assert len(a) == 5 and len(b) == 1
    gold = [a[1]]
    assert where(index, a[1], gold) == "first"
    assert where(index, a[2], gold) == "the sentence after"
    assert where(index, a[0], gold) == "the sentence before"
    assert where(index, a[3], gold) == "two away"
    assert where(index, a[4], gold) == "farther in the passage"
    assert where(index, b[0], gold) == "another passage"
    assert where(index, a[3], []) == "no gold in the pool"
    assert where(index, a[3], [a[0], a[4]]) == "the sentence before"  # the nearest gold sentence counts


def test_first_hits_follow_the_scores_and_the_labels(index: CorpusIndex) -> None:
    a = ids_of(index, "a.txt")
    pools = SimpleNamespace(
        chunks=np.array([a[0], a[1], a[2], a[3]]),
        labels=np.array([0, 1, 0, 0], dtype=np.int8),
        offsets=np.array([0, 3, 3, 4]),
    )
    scores = np.array([0.1, 0.2, 0.9, 5.0])
    assert first_hits(pools, scores) == [(a[2], [a[1]]), (-1, []), (a[3], [])]  # type: ignore[arg-type]


def test_pools_without_chunk_ids_are_refused() -> None:
    pools = SimpleNamespace(chunks=None, labels=np.zeros(0), offsets=np.array([0]))
    with pytest.raises(SystemExit, match="dump them again"):
        first_hits(pools, np.zeros(0))  # type: ignore[arg-type]
