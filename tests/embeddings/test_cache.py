"""Embedding cache: SQLite storage and embed_with_cache's reuse of cached vectors."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from embeddings import EmbeddingCache, EmbedStats, content_key, embed_with_cache

DIM = 6


def fake_vector(text: str) -> np.ndarray:
    """A deterministic vector per text, so results can be checked without the cache."""
    seed = int(content_key(text)[:8], 16)
    return np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)


class CountingEncoder:
    """Stands in for a model: records every batch; can fail on a chosen batch number."""

    def __init__(self, fail_on_batch: int | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail_on_batch = fail_on_batch

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        if self.fail_on_batch == len(self.batches):
            raise RuntimeError("encoder crashed")
        return np.stack([fake_vector(t) for t in texts])

    @property
    def texts(self) -> list[str]:
        return [t for batch in self.batches for t in batch]


def run(
    encode: CountingEncoder, texts: list[str], cache: EmbeddingCache | None, model: str = "m1", **kw: Any
) -> tuple[np.ndarray, EmbedStats]:
    return embed_with_cache(encode, model, texts, [content_key(t) for t in texts], cache, **kw)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[EmbeddingCache]:
    with EmbeddingCache(tmp_path / "sub" / "emb.sqlite") as c:
        yield c


def test_put_get_round_trip(cache: EmbeddingCache) -> None:
    rng = np.random.default_rng(0)
    keys = [f"k{i}" for i in range(2500)]  # more than one SELECT chunk
    vecs = rng.standard_normal((2500, DIM)).astype(np.float32)
    cache.put_many("m", keys, vecs)
    got = cache.get_many("m", [*keys[::-1], "absent", keys[0]])
    assert set(got) == set(keys)
    for i in (0, 1, 1234, 2499):
        assert got[keys[i]].dtype == np.float32
        np.testing.assert_array_equal(got[keys[i]], vecs[i])
    assert cache.count("m") == len(cache) == 2500
    cache.put_many("m", ["k0"], np.ones((1, DIM), np.float32))  # replaces
    np.testing.assert_array_equal(cache.get_many("m", ["k0"])["k0"], np.ones(DIM))
    assert cache.count("m") == 2500


def test_put_many_validates(cache: EmbeddingCache) -> None:
    with pytest.raises(ValueError):
        cache.put_many("m", ["a", "b"], np.zeros((3, DIM), np.float32))
    with pytest.raises(ValueError):
        cache.put_many("m", ["a"], np.full((1, DIM), np.nan, np.float32))
    assert len(cache) == 0


def test_only_misses_are_encoded(cache: EmbeddingCache) -> None:
    enc = CountingEncoder()
    texts = [f"sentence {i}" for i in range(10)]
    vecs, stats = run(enc, texts, cache, batch_size=4)
    assert enc.texts == texts and [len(b) for b in enc.batches] == [4, 4, 2]
    assert (stats.embedded, stats.reused) == (10, 0) and stats.seconds >= 0
    np.testing.assert_array_equal(vecs, np.stack([fake_vector(t) for t in texts]))

    enc2 = CountingEncoder()
    more = [*texts[3:7], "new one", "new two", texts[0]]
    vecs2, stats2 = run(enc2, more, cache)
    assert enc2.texts == ["new one", "new two"]
    assert (stats2.embedded, stats2.reused) == (2, 5)
    np.testing.assert_array_equal(vecs2, np.stack([fake_vector(t) for t in more]))


def test_duplicates_within_a_call_encoded_once(cache: EmbeddingCache) -> None:
    enc = CountingEncoder()
    texts = ["a", "b", "a", "c", "b", "a"]
    vecs, stats = run(enc, texts, cache, batch_size=2)
    assert sorted(enc.texts) == ["a", "b", "c"]
    assert (stats.embedded, stats.reused) == (3, 3)
    assert vecs.shape == (6, DIM) and vecs.dtype == np.float32
    np.testing.assert_array_equal(vecs[0], vecs[5])
    np.testing.assert_array_equal(vecs[1], vecs[4])
    assert not np.array_equal(vecs[0], vecs[1])
    enc_nocache = CountingEncoder()
    vecs_nocache, _ = run(enc_nocache, texts, None)  # works without a cache too
    assert sorted(enc_nocache.texts) == ["a", "b", "c"]
    np.testing.assert_array_equal(vecs_nocache, vecs)


def test_persists_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "emb.sqlite"
    texts = ["one", "two", "three"]
    with EmbeddingCache(path) as first:
        run(CountingEncoder(), texts, first)
    enc = CountingEncoder()
    with EmbeddingCache(path) as second:
        vecs, stats = run(enc, texts, second)
        assert second.count("m1") == 3
    assert enc.batches == [] and stats.reused == 3
    np.testing.assert_array_equal(vecs[2], fake_vector("three"))


def test_model_ids_kept_apart(cache: EmbeddingCache) -> None:
    cache.put_many("model-a", ["k"], np.zeros((1, DIM), np.float32))
    cache.put_many("model-b", ["k"], np.ones((1, 3), np.float32))
    assert cache.get_many("model-a", ["k"])["k"].tolist() == [0.0] * DIM
    assert cache.get_many("model-b", ["k"])["k"].tolist() == [1.0] * 3
    assert cache.get_many("model-c", ["k"]) == {}
    assert (cache.count("model-a"), cache.count("model-b"), len(cache)) == (1, 1, 2)
    enc = CountingEncoder()
    run(enc, ["x"], cache, model="model-a")
    run(enc, ["x"], cache, model="model-b2")
    assert enc.texts == ["x", "x"]


def test_interrupted_run_keeps_finished_batches(cache: EmbeddingCache) -> None:
    texts = [f"t{i}" for i in range(7)]
    with pytest.raises(RuntimeError, match="crashed"):
        run(CountingEncoder(fail_on_batch=2), texts, cache, batch_size=3)
    assert cache.count("m1") == 3
    assert set(cache.get_many("m1", [content_key(t) for t in texts])) == {content_key(t) for t in texts[:3]}
    enc = CountingEncoder()
    vecs, stats = run(enc, texts, cache, batch_size=3)
    assert enc.texts == texts[3:] and (stats.embedded, stats.reused) == (4, 3)
    np.testing.assert_array_equal(vecs, np.stack([fake_vector(t) for t in texts]))


def test_embed_with_cache_errors(cache: EmbeddingCache) -> None:
    enc = CountingEncoder()
    with pytest.raises(ValueError):
        embed_with_cache(enc, "m1", ["a", "b"], ["k"], cache)
    with pytest.raises(ValueError, match="two different texts"):
        embed_with_cache(enc, "m1", ["a", "b"], ["k", "k"], cache)
    with pytest.raises(ValueError, match="shape"):
        embed_with_cache(lambda ts: np.zeros((len(ts) + 1, DIM)), "m1", ["a"], ["ka"], cache)
    cache.put_many("m1", ["old"], np.zeros((1, DIM + 1), np.float32))
    with pytest.raises(ValueError, match="dim"):
        embed_with_cache(enc, "m1", ["old text", "new"], ["old", "new"], cache)
    assert cache.get_many("m1", ["new"]) == {}  # nothing of the wrong dim was stored


def test_empty_input_and_progress(cache: EmbeddingCache) -> None:
    vecs, stats = run(CountingEncoder(), [], cache)
    assert vecs.shape == (0, 0) and (stats.embedded, stats.reused) == (0, 0)
    vecs, stats = run(CountingEncoder(), ["p", "q"], cache, progress=True, batch_size=1)
    assert vecs.shape == (2, DIM) and stats.embedded == 2


def test_closed_cache_refuses(tmp_path: Path) -> None:
    c = EmbeddingCache(tmp_path / "c.sqlite")
    c.close()
    c.close()
    with pytest.raises(ValueError, match="closed"):
        c.get_many("m", ["k"])


def test_wal_mode_and_second_connection(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with EmbeddingCache(path) as writer, EmbeddingCache(path) as reader:
        writer.put_many("m", ["k"], np.ones((1, DIM), np.float32))
        assert "k" in reader.get_many("m", ["k"])
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_concurrent_writer_processes(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    EmbeddingCache(path).close()
    script = (
        "import sys, numpy as np\n"
        "from embeddings import EmbeddingCache\n"
        "with EmbeddingCache(sys.argv[1]) as c:\n"
        "    for b in range(40):\n"
        "        keys = [f'{sys.argv[2]}-{b}-{i}' for i in range(25)]\n"
        "        c.put_many('m', keys, np.full((25, 4), b, np.float32))\n"
        "        c.get_many('m', keys)\n"
    )
    root = Path(__file__).resolve().parents[2]
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path), name], cwd=root) for name in ("p", "q", "r")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    with EmbeddingCache(path) as c:
        assert c.count("m") == 3 * 40 * 25
        assert c.get_many("m", ["q-39-24"])["q-39-24"].tolist() == [39.0] * 4


def test_content_key() -> None:
    key = content_key("Hello, 世界")
    assert key == content_key("Hello, 世界") and len(key) == 64
    assert int(key, 16) >= 0
    assert content_key("Hello, 世界 ") != key
    assert content_key("") != content_key(" ")
    assert len(content_key("lone \ud800 surrogate")) == 64
