"""Latency of the Milvus backend's dense layer on Milvus Lite and on a real Milvus 2.3.5 server (not a benchmark).

Usage: python scripts/bench_milvus_dense.py [--rows 2000] [--queries 50] [--dim 384]

Starts the test suite's server (tests/milvus_server.py: the ``milvus`` wheel's binaries on a
loopback port) and a Lite file, writes the same random unit vectors into one dense collection
(qa.index.milvus.dense) on each, then times, on each in turn: a top-100 search, the same search
with a filter expression on the document, fetching 100 vectors by id, an upsert of one
document's 20 rows and a delete by expression. Medians in milliseconds on whatever else the
machine is doing: a smoke figure, not a measurement of Milvus.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.index.milvus.connection import connect, literal  # noqa: E402
from qa.index.milvus.dense import DenseCollection  # noqa: E402
from tests import milvus_server  # noqa: E402


def median_ms(call: Callable[[int], object], times: int) -> float:
    """Median wall time of ``call(i)`` for i in range(times), in ms."""
    spent = []
    for i in range(times):
        started = time.perf_counter()
        call(i)
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent)


def measure(uri: str, vectors: np.ndarray, queries: int) -> dict[str, float]:
    """The timings of one Milvus."""
    dense = DenseCollection(connect(uri), uri, "latency", vectors.shape[1])
    dense.drop()
    dense.create()
    ids = list(range(1, len(vectors) + 1))
    docs = [f"doc{i // 20}.txt" for i in range(len(vectors))]
    dense.upsert(ids, docs, [1] * len(ids), vectors)
    out = {
        "search top 100": median_ms(lambda i: dense.search(vectors[i], 100), queries),
        "search top 100, filtered": median_ms(
            lambda i: dense.search(vectors[i], 100, "doc in [" + ", ".join(map(literal, docs[i::7][:5])) + "]"), queries
        ),
        "fetch 100 vectors": median_ms(lambda i: dense.vectors(ids[i : i + 100]), queries),
        "upsert 20 rows": median_ms(lambda i: dense.upsert(ids[:20], docs[:20], [i + 2] * 20, vectors[:20]), 10),
        "delete by expression": median_ms(lambda i: dense.delete(f"doc == {literal(docs[20 * (i + 5)])}"), 10),
    }
    dense.drop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--dim", type=int, default=384)
    args = parser.parse_args()
    vectors = np.random.default_rng(5).standard_normal((args.rows, args.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with tempfile.TemporaryDirectory() as tmp:
        lite = measure(str(Path(tmp) / "lite.db"), vectors, args.queries)
        server = milvus_server.serve(Path(tmp) / "server", milvus_server.binaries(Path(tmp) / "bin"))
        uri = next(server)
        try:
            remote = measure(uri, vectors, args.queries)
        finally:
            server.close()
    print(f"{args.rows} rows of {args.dim} dimensions; medians in ms (not a benchmark)")
    print("| operation | Milvus Lite 3.2.2 | Milvus 2.3.5 standalone (loopback) |\n|---|---|---|")
    for name in lite:
        print(f"| {name} | {lite[name]:.1f} | {remote[name]:.1f} |")


if __name__ == "__main__":
    main()
