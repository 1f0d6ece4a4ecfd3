"""Indexing benchmark: `qa index` throughput against bare SentenceTransformer.encode, in one run.

Usage: python scripts/bench_indexing.py [CORPUS] [--limit N]

Measures, on CORPUS (default seeds/): the bare encode rate of the default model on the
sentences alone (batch 32), a cold index build with an empty embedding cache (every
sentence embedded twice: alone and in context), a re-index of the unchanged corpus, and the
index size on disk. Rates are sentences per second; the medians of --rounds bare runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from embeddings.cache import EmbeddingCache  # noqa: E402
from qa.building import build_index, open_encoder  # noqa: E402
from qa.ingest.reading import iter_documents  # noqa: E402
from qa.ingest.segment import segment  # noqa: E402
from qa.settings import Settings  # noqa: E402


def size_of(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, default=ROOT / "seeds")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    encoder = open_encoder(Settings())
    sentences = [c.text for d in iter_documents([args.corpus]) for c in segment(d)]
    bare = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        encoder.encode_documents(sentences, batch_size=32)
        bare.append(len(sentences) / (time.perf_counter() - started))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with EmbeddingCache(work / "cache.sqlite") as cache:
            _, cold = build_index([args.corpus], work / "index", encoder, cache)
            started = time.perf_counter()
            _, warm = build_index([args.corpus], work / "index", encoder, cache)
            warm_wall = time.perf_counter() - started
            started = time.perf_counter()
            _, cached = build_index([args.corpus], work / "index2", encoder, cache)
            cached_wall = time.perf_counter() - started
        size = size_of(work / "index")
    bare_rate = statistics.median(bare)
    cold_rate = cold.sentences / cold.seconds
    print(f"corpus: {args.corpus} ({cold.sentences} sentences)")
    print(
        f"bare SentenceTransformer.encode, sentences alone: median {bare_rate:.1f} sentences/s over {args.rounds} runs"
    )
    print(
        f"qa index, cold cache (2 texts per sentence): {cold_rate:.1f} sentences/s ({cold.seconds:.1f} s), "
        f"ratio to bare {cold_rate / bare_rate:.2f}"
    )
    print(f"re-index, unchanged corpus (read, compare, load and save): {warm_wall:.2f} s ({warm.embedded} embedded)")
    print(f"new index, warm embedding cache: {cached_wall:.2f} s ({cached.embedded} embedded)")
    print(f"index size on disk: {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
