"""FaissIndex against the NumPy twin and an exact float64 oracle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings.vector_index import (
    FAISS_FILE,
    NUMPY_IDS_FILE,
    NUMPY_VECTORS_FILE,
    FaissIndex,
    IndexFormatError,
    NumpyIndex,
    VectorIndex,
    backend_class,
    faiss_threads,
    new_vector_index,
    open_vector_index,
)

BACKENDS = [FaissIndex, NumpyIndex]
GAP = 1e-5  # scores closer than this may legitimately come out in either order


def unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def check_hits(
    result: tuple[np.ndarray, np.ndarray], model: dict[int, np.ndarray], queries: np.ndarray, k: int
) -> None:
    """Compare search output with an exact float64 ranking of ``model`` (id -> vector).

    Scores must match, every returned id must really have its score, and a position is checked
    id for id wherever the ranking is unambiguous: no other score within GAP, or an exact tie
    (equal vectors), which must be ordered by lower id first.
    """
    scores, got = result
    m, n = len(queries), len(model)
    kk = min(k, n)
    assert scores.shape == got.shape == (m, k)
    assert scores.dtype == np.float32 and got.dtype == np.int64
    assert (got[:, kk:] == -1).all() and np.isneginf(scores[:, kk:]).all()
    if n == 0:
        return
    ids = np.fromiter(model, dtype=np.int64)
    vecs = np.stack(list(model.values())).astype(np.float64)
    exact = np.einsum("qd,nd->qn", queries.astype(np.float64), vecs)  # same arithmetic for every row
    for r in range(m):
        order = np.lexsort((ids, -exact[r]))
        s_sorted, id_sorted = exact[r][order], ids[order]
        np.testing.assert_allclose(scores[r, :kk], s_sorted[:kk], atol=1e-5)
        true_score = dict(zip(ids.tolist(), exact[r].tolist(), strict=True))
        assert all(i in true_score for i in got[r, :kk].tolist()), "returned an id that is not stored"
        np.testing.assert_allclose([true_score[i] for i in got[r, :kk].tolist()], scores[r, :kk], atol=1e-5)
        assert len(set(got[r, :kk].tolist())) == kk
        neg = -s_sorted  # ascending; the scores within GAP of position j span neg[lo[j]..hi[j]]
        lo = np.searchsorted(neg, neg - GAP, side="left")
        hi = np.searchsorted(neg, neg + GAP, side="right") - 1
        determined = (neg[lo] == neg[hi])[:kk]
        np.testing.assert_array_equal(got[r, :kk][determined], id_sorted[:kk][determined], err_msg=f"row {r}")


def fill(index: VectorIndex, rng: np.random.Generator, n: int, id_range: int) -> dict[int, np.ndarray]:
    ids = rng.choice(id_range, size=n, replace=False).astype(np.int64)
    vecs = unit(rng, n, index.dim)
    index.add(ids, vecs)
    return dict(zip(ids.tolist(), vecs, strict=True))


@pytest.mark.parametrize("n", [0, 1, 7, 150, 3000])
@pytest.mark.parametrize("dim", [8, 384])
@pytest.mark.parametrize("m", [3, 25])  # faiss switches to BLAS at 20 queries
def test_backends_match_exact_oracle(n: int, dim: int, m: int) -> None:
    rng = np.random.default_rng(n * 1000 + dim + m)
    ids = rng.choice(10 * n + 10, size=n, replace=False)
    vecs = unit(rng, n, dim)
    queries = unit(rng, m, dim)
    model = dict(zip(ids.tolist(), vecs, strict=True))
    results = []
    for cls in BACKENDS:
        index = cls(dim)
        index.add(ids, vecs)
        assert len(index) == n
        for k in sorted({1, 10, max(n, 1), n + 5}):
            check_hits(index.search(queries, k), model, queries, k)
        results.append(index.search(queries, 10))
    np.testing.assert_allclose(results[0][0], results[1][0], atol=1e-5)


@pytest.mark.parametrize("cls", BACKENDS)
def test_removals_and_readds(cls: type[FaissIndex | NumpyIndex]) -> None:
    rng = np.random.default_rng(7)
    index = cls(16)
    model = fill(index, rng, 500, 2000)
    queries = unit(rng, 30, 16)
    gone = rng.choice(np.fromiter(model, np.int64), size=200, replace=False)
    assert index.remove(np.concatenate([gone, gone[:5], [99999]])) == 200
    for i in gone.tolist():
        del model[i]
    check_hits(index.search(queries, 400), model, queries, 400)
    returned = set(index.search(queries, 500)[1].ravel().tolist())
    assert not returned & set(gone.tolist())
    back = gone[:50]
    new_vecs = unit(rng, 50, 16)
    index.add(back, new_vecs)
    model.update(zip(back.tolist(), new_vecs, strict=True))
    check_hits(index.search(queries, 20), model, queries, 20)
    np.testing.assert_array_equal(index.ids(), np.fromiter(model, np.int64))
    np.testing.assert_array_equal(index.vectors(back[::-1]), new_vecs[::-1])


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    dim=st.integers(1, 12),
    pool=st.integers(1, 6),
    ops=st.lists(st.tuples(st.booleans(), st.integers(0, 30)), min_size=1, max_size=6),
    k=st.integers(0, 50),
)
def test_random_operations_agree(seed: int, dim: int, pool: int, ops: list[tuple[bool, int]], k: int) -> None:
    """Random add/remove sequences; vectors come from a small pool, so exact ties are common."""
    rng = np.random.default_rng(seed)
    pool_vecs = unit(rng, pool, dim)
    indexes = [cls(dim) for cls in BACKENDS]
    model: dict[int, np.ndarray] = {}
    for is_add, count in ops:
        if is_add:
            free = np.setdiff1d(np.arange(60), np.fromiter(model, np.int64))
            ids = rng.permutation(free)[:count]
            vecs = pool_vecs[rng.integers(0, pool, len(ids))]
            model.update(zip(ids.tolist(), vecs, strict=True))
        else:
            ids = rng.integers(0, 60, count)
            for i in ids.tolist():
                model.pop(i, None)
        for index in indexes:
            index.add(ids, vecs) if is_add else index.remove(ids)
    queries = np.concatenate([pool_vecs, unit(rng, 3, dim)])
    hits = [index.search(queries, k) for index in indexes]
    for result in hits:
        check_hits(result, model, queries, k)
    np.testing.assert_array_equal(indexes[0].ids(), indexes[1].ids())


@pytest.mark.parametrize("m", [1, 24])
def test_exact_ties_lower_id_first_in_both(m: int) -> None:
    rng = np.random.default_rng(3)
    base = unit(rng, 2, 32)
    ids = rng.permutation(np.arange(100, 400))[:120]
    vecs = base[np.arange(120) % 2]  # two groups of 60 identical vectors
    queries = np.repeat(base[:1], m, axis=0)
    group = np.sort(ids[::2])
    for cls in BACKENDS:
        index = cls(32)
        index.add(ids, vecs)
        for k in (1, 5, 59, 60, 61, 130):
            _, got = index.search(queries, k)
            want = np.concatenate([group, np.sort(ids[1::2])])[:k]
            np.testing.assert_array_equal(got[:, : len(want)], np.tile(want, (m, 1)))


@pytest.mark.parametrize("cls", BACKENDS)
def test_save_load_round_trip(cls: type[FaissIndex | NumpyIndex], tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    index = cls(24)
    model = fill(index, rng, 300, 5000)
    index.remove(np.fromiter(model, np.int64)[::4])
    queries = unit(rng, 21, 24)
    index.save(tmp_path)
    index.save(tmp_path)  # saving again replaces the files and leaves no temporary ones
    expected = {FAISS_FILE} if cls is FaissIndex else {NUMPY_VECTORS_FILE, NUMPY_IDS_FILE}
    assert {p.name for p in tmp_path.iterdir()} == expected
    loaded = cls.load(tmp_path)
    reopened = open_vector_index(tmp_path)
    assert type(reopened) is cls and loaded.dim == 24 and len(loaded) == len(index)
    for other in (loaded, reopened):
        np.testing.assert_array_equal(other.ids(), index.ids())
        np.testing.assert_array_equal(other.vectors(index.ids()), index.vectors(index.ids()))
        for got, want in zip(other.search(queries, 17), index.search(queries, 17), strict=True):
            np.testing.assert_array_equal(got, want)
    loaded.add(np.array([10**9]), unit(rng, 1, 24))  # a loaded index stays usable
    assert len(loaded) == len(index) + 1


@pytest.mark.parametrize("cls", BACKENDS)
def test_empty_index_round_trip(cls: type[FaissIndex | NumpyIndex], tmp_path: Path) -> None:
    cls(5).save(tmp_path)
    loaded = open_vector_index(tmp_path)
    assert len(loaded) == 0 and loaded.dim == 5
    scores, ids = loaded.search(np.ones(5, np.float32), 3)
    assert ids.tolist() == [[-1, -1, -1]] and np.isneginf(scores).all()


@pytest.mark.parametrize("cls", BACKENDS)
def test_duplicate_ids_rejected(cls: type[FaissIndex | NumpyIndex]) -> None:
    rng = np.random.default_rng(0)
    index = cls(4)
    index.add(np.array([1, 2, 3]), unit(rng, 3, 4))
    with pytest.raises(ValueError, match="already in the index"):
        index.add(np.array([4, 2]), unit(rng, 2, 4))
    with pytest.raises(ValueError, match="duplicate"):
        index.add(np.array([5, 5]), unit(rng, 2, 4))
    assert len(index) == 3 and sorted(index.ids().tolist()) == [1, 2, 3]


@pytest.mark.parametrize("cls", BACKENDS)
def test_bad_arguments_rejected(cls: type[FaissIndex | NumpyIndex]) -> None:
    rng = np.random.default_rng(0)
    index = cls(4)
    good = unit(rng, 2, 4)
    bad_adds = [
        (np.array([1, 2]), unit(rng, 2, 5)),  # wrong dim
        (np.array([1, 2]), good.astype(np.float64)),  # wrong dtype
        (np.array([1, 2, 3]), good),  # count mismatch
        (np.array([[1, 2]]), good),  # ids not 1-D
        (np.array([1.0, 2.0]), good),  # ids not integers
        (np.array([-1, 2]), good),  # -1 is the padding id
        (np.array([1, 2]), good * 2),  # not normalized
        (np.array([1, 2]), np.full((2, 4), np.nan, np.float32)),
    ]
    for ids, vecs in bad_adds:
        with pytest.raises(ValueError):
            index.add(ids, vecs)
    assert len(index) == 0
    index.add(np.array([1, 2]), good)
    for queries, k in [(unit(rng, 1, 3), 1), (good.astype(np.float64), 1), (good, -1)]:
        with pytest.raises(ValueError):
            index.search(queries, k)
    with pytest.raises(KeyError):
        index.vectors(np.array([1, 3]))


@pytest.mark.parametrize("cls", BACKENDS)
def test_small_cases(cls: type[FaissIndex | NumpyIndex]) -> None:
    index = cls(3)
    e = np.eye(3, dtype=np.float32)
    index.add(np.array([30, 10, 20]), e)
    scores, ids = index.search(e[1], 2)  # a 1-D query is one query
    assert ids.tolist() == [[10, 20]] and scores[0, 0] == pytest.approx(1.0)
    assert index.search(e, 0)[1].shape == (3, 0)
    assert index.ids().tolist() == [30, 10, 20]
    np.testing.assert_array_equal(index.vectors(np.array([20, 30])), e[[2, 0]])
    assert index.vectors(np.array([], dtype=np.int64)).shape == (0, 3)
    assert index.remove(np.array([], dtype=np.int64)) == 0
    assert isinstance(index, VectorIndex)


def test_corrupt_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(IndexFormatError):
        open_vector_index(tmp_path)
    with pytest.raises(IndexFormatError):
        FaissIndex.load(tmp_path)
    with pytest.raises(IndexFormatError):
        NumpyIndex.load(tmp_path)
    index = FaissIndex(8)
    index.add(np.arange(50), unit(np.random.default_rng(0), 50, 8))
    index.save(tmp_path)
    data = (tmp_path / FAISS_FILE).read_bytes()
    for broken in (data[: len(data) // 2], b"not a faiss index at all", b""):
        (tmp_path / FAISS_FILE).write_bytes(broken)
        with pytest.raises(IndexFormatError):
            open_vector_index(tmp_path)


def test_corrupt_numpy_files(tmp_path: Path) -> None:
    index = NumpyIndex(8)
    index.add(np.arange(10), unit(np.random.default_rng(0), 10, 8))
    index.save(tmp_path)
    (tmp_path / NUMPY_IDS_FILE).write_bytes(b"garbage")
    with pytest.raises(IndexFormatError):
        open_vector_index(tmp_path)
    np.save(tmp_path / NUMPY_IDS_FILE, np.arange(9))  # length mismatch
    with pytest.raises(IndexFormatError):
        NumpyIndex.load(tmp_path)
    np.save(tmp_path / NUMPY_IDS_FILE, np.zeros(10, np.int64))  # duplicate ids
    with pytest.raises(IndexFormatError):
        NumpyIndex.load(tmp_path)
    (tmp_path / NUMPY_VECTORS_FILE).unlink()
    with pytest.raises(IndexFormatError):
        open_vector_index(tmp_path)


def test_open_refuses_ambiguous_directory(tmp_path: Path) -> None:
    FaissIndex(4).save(tmp_path)
    NumpyIndex(4).save(tmp_path)
    with pytest.raises(IndexFormatError, match="both"):
        open_vector_index(tmp_path)


def test_new_vector_index_and_threads() -> None:
    import faiss

    assert isinstance(new_vector_index(4), FaissIndex)
    assert isinstance(new_vector_index(4, kind="numpy"), NumpyIndex)
    with pytest.raises(ValueError):
        new_vector_index(4, kind="annoy")
    before = faiss.omp_get_max_threads()
    with faiss_threads(1):
        assert faiss.omp_get_max_threads() == 1
    assert faiss.omp_get_max_threads() == before
    assert FaissIndex(4).threads_for(1) == 1
    assert 1 <= FaissIndex(4).threads_for(64) <= 2
    assert FaissIndex(4, threads=3).threads_for(1) == 3


def test_factory_resolves_names_and_dotted_paths() -> None:
    assert backend_class("faiss") is FaissIndex and backend_class("numpy") is NumpyIndex
    assert backend_class("embeddings.vector_index.numpy:NumpyIndex") is NumpyIndex
    assert backend_class("embeddings.vector_index.numpy.NumpyIndex") is NumpyIndex
    assert isinstance(new_vector_index(3, kind="embeddings.vector_index.numpy:NumpyIndex"), NumpyIndex)
    for bad in ("annoy", "embeddings.vector_index.numpy:Nope", "no.such.module:X", "numpy.ndarray", ""):
        with pytest.raises(ValueError, match="unknown vector index kind"):
            backend_class(bad)


@pytest.mark.parametrize("cls", BACKENDS)
def test_copy_is_independent_and_keeps_order(cls: type[FaissIndex | NumpyIndex]) -> None:
    rng = np.random.default_rng(5)
    index = cls(8)
    model = fill(index, rng, 50, 1000)
    index.remove(np.fromiter(model, np.int64)[::3])
    twin = index.copy()
    assert type(twin) is cls and isinstance(twin, VectorIndex)
    np.testing.assert_array_equal(twin.ids(), index.ids())
    np.testing.assert_array_equal(twin.vectors(index.ids()), index.vectors(index.ids()))
    twin.remove(index.ids()[:5])
    twin.add(np.array([5000]), unit(rng, 1, 8))
    assert len(index) == len(twin) + 4 and 5000 not in index


def test_faiss_copy_keeps_its_thread_setting() -> None:
    assert FaissIndex(4, threads=3).copy().threads == 3
