"""Benchmark FaissIndex against NumpyIndex: time to add n vectors and to search them.

Not a test. Prints medians over ``--repeats`` runs in one process, for example::

    .venv/bin/python scripts/bench_vector_index.py --sizes 10000 100000 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from embeddings.vector_index import FaissIndex, NumpyIndex, VectorIndex


def unit_vectors(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """Random L2-normalized float32 vectors."""
    x = rng.standard_normal((n, dim), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``action`` over ``repeats`` runs, after one warm-up run."""
    action()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_one(
    make: Callable[[], VectorIndex], ids: np.ndarray, vecs: np.ndarray, queries: np.ndarray, args: argparse.Namespace
) -> dict[str, float]:
    """Add time (fresh index each run) and search times for one backend, in milliseconds."""
    add_s = median_seconds(lambda: make().add(ids, vecs), args.repeats)
    index = make()
    index.add(ids, vecs)
    one = queries[: args.single]
    single_s = median_seconds(lambda: [index.search(q, args.k) for q in one], args.repeats) / len(one)
    batch_s = median_seconds(lambda: index.search(queries[: args.batch], args.k), args.repeats)
    return {"add": add_s * 1e3, "query": single_s * 1e3, "batch": batch_s * 1e3}


def main() -> None:
    """Parse arguments, run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--single", type=int, default=20, help="one-at-a-time queries per run")
    parser.add_argument("--batch", type=int, default=64, help="queries in one batched search call")
    parser.add_argument("--threads", type=int, default=None, help="faiss threads (default: 1 below 20 queries, else 2)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    queries = unit_vectors(rng, max(args.single, args.batch), args.dim)
    backends: dict[str, Callable[[], VectorIndex]] = {
        "faiss": lambda: FaissIndex(args.dim, threads=args.threads),
        "numpy": lambda: NumpyIndex(args.dim),
    }
    print(f"dim={args.dim} k={args.k} repeats={args.repeats} (medians, milliseconds)")
    print(f"{'n':>8} {'backend':>8} {'add all':>10} {'1 query':>10} {f'{args.batch} queries':>12}")
    for n in args.sizes:
        ids = rng.permutation(10 * n)[:n].astype(np.int64)
        vecs = unit_vectors(rng, n, args.dim)
        for name, make in backends.items():
            r = bench_one(make, ids, vecs, queries, args)
            print(f"{n:>8} {name:>8} {r['add']:>10.2f} {r['query']:>10.3f} {r['batch']:>12.2f}")


if __name__ == "__main__":
    main()
