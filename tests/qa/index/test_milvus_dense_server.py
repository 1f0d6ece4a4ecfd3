"""The Milvus backend's dense layer (qa.index.milvus.dense) and its version check on a real Milvus 2.3.5 server.

The server is the session's (fixture ``milvus_uri``, tests/milvus_server.py). 2.3.5 has one vector
field per collection and no BM25 function: the dense collections run on it, the whole backend
refuses it with a message naming what it needs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import numpy as np
import pytest

from qa.errors import IndexBackendError
from qa.index.milvus import MilvusTarget, create_milvus, open_milvus
from qa.index.milvus.connection import connect, literal
from qa.index.milvus.dense import DenseCollection

pytestmark = pytest.mark.milvus_server
DIM = 8


@pytest.fixture
def dense(milvus_uri: str) -> Iterator[DenseCollection]:
    collection = DenseCollection(connect(milvus_uri), milvus_uri, f"dense_{uuid.uuid4().hex}", DIM)
    collection.create()
    yield collection
    collection.drop()
    assert not collection.exists()


def unit_vectors(count: int, seed: int = 3) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_dense_layer_on_a_real_server(dense: DenseCollection) -> None:
    vectors = unit_vectors(12)
    ids = [10_000_000_000_000_000 + i for i in range(12)]  # 63-bit ids, as content hashes give
    docs = ['a "quoted".txt' if i % 2 else "b.txt" for i in range(12)]
    dates = ["2018-06-01" if i < 3 else "" for i in range(12)]
    dense.upsert(ids, docs, [1] * 12, vectors, dates)
    dense.upsert(ids[:4], docs[:4], [2] * 4, vectors[:4], dates[:4])  # the same ids again: replaced, not duplicated
    assert dense.count() == 12
    [hits] = dense.search(vectors[5], 3)
    assert hits[0][0] == ids[5] and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert hits[0][2:] == ('a "quoted".txt', 1)
    [only_b] = dense.search(vectors[5], 20, f"doc == {literal('b.txt')}")
    assert {h[2] for h in only_b} == {"b.txt"} and len(only_b) == 6
    [dated] = dense.search(vectors[0], 20, 'date != "" and date >= "2018-01-01" and date <= "2018-12-31"')
    assert sorted(h[0] for h in dated) == ids[:3]
    [newer] = dense.search(vectors[0], 20, "version == 2")
    assert sorted(h[0] for h in newer) == ids[:4]
    found = dense.vectors([ids[3], ids[7], 42])
    assert sorted(found) == [ids[3], ids[7]] and np.allclose(found[ids[7]], vectors[7], atol=1e-6)
    dense.delete(f"doc == {literal(docs[1])} and version != 2")
    assert dense.count() == 8  # of its six rows, ids 1 and 3 are version 2 and stay
    [left] = dense.search(vectors[1], 20)
    assert {h[0] for h in left} == set(ids) - {ids[i] for i in (5, 7, 9, 11)}


def test_the_whole_backend_refuses_a_server_older_than_2_5(milvus_uri: str) -> None:
    target = MilvusTarget(milvus_uri, prefix=f"old_{uuid.uuid4().hex}")
    for attempt in (lambda: open_milvus(target), lambda: create_milvus(target, "fake", DIM)):
        with pytest.raises(
            IndexBackendError, match=r"is version v?2\.3\.5\S*; this index needs Milvus 2\.5 or later \(its BM25"
        ):
            attempt()
