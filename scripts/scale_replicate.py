"""Read-side costs of a large segmented index without tokenizing and embedding it: copies of a built one.

Usage: python scripts/scale_replicate.py SRC_INDEX DEST_INDEX [--copies 10] [--queries 300] [--shared DIR]

Writes DEST_INDEX as one segment holding ``--copies`` copies of every live document of the
segmented index SRC_INDEX (ids ``<id>#<k>``, the stored tokens reused, each copy's vectors the
stored ones plus a little noise, renormalized; vectors ``auto``: IVF from 100k), then measures,
in this process: the time to open it and answer the first question, the RSS growth from opening
it and after the questions, query p50/p99 without query encoding (fake vectors), one-document
add/replace/delete and the IVF recall@10 against exact search. The sentences repeat (``copies``
times each), so build time and BM25 statistics are not those of a unique corpus: use
scripts/bench_scale.py for those; this measures what a server does with an index of that size.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import bench_scale
import numpy as np
import scale_inproc

from embeddings import FakeEncoder
from qa.engine import Engine
from qa.index.generations import commit, new_segment_folder, open_segmented
from qa.index.layout import writing
from qa.index.segment import SegmentWriter
from qa.ingest import parse_document
from qa.search import RetrievalConfig


def replicate(src: Path, dest: Path, copies: int, seed: int = 5) -> None:
    """Write ``dest`` as ``copies`` copies of the live documents of ``src`` (one segment, vectors auto)."""
    index, rng = open_segmented(src), np.random.default_rng(seed)
    with writing(dest):
        writer = SegmentWriter(new_segment_folder(dest), index.dim)
        for k in range(copies):
            for part in index.parts:
                for doc_id in part.segment.document_ids():
                    doc = part.document(doc_id)
                    if doc is None:
                        continue
                    rows = np.arange(doc.first, doc.first + doc.count)
                    new_id = f"{doc_id}#{k}"
                    records = [
                        (replace(c.chunk, source=new_id), c.tokens, c.key, c.context_key)
                        for c in part.segment.chunks(rows.tolist())
                    ]
                    views = [v.reconstruct(rows) for v in (part.segment.sentence, part.segment.context)]
                    if k:
                        views = [v + 0.02 * rng.standard_normal(v.shape, dtype=np.float32) for v in views]
                        views = [v / np.linalg.norm(v, axis=1, keepdims=True) for v in views]
                    writer.add(replace(doc, id=new_id), records, *views)
        writer.finish("auto")
        header = {k: v for k, v in index.manifest.items() if k not in ("segments", "files", "generation", "saved_at")}
        header.update(documents=writer.documents, chunks=writer.rows, vector_index="auto")
        commit(dest, header, [(writer.folder.name, np.empty(0, np.int64), frozenset())])


def rss_mb() -> float:
    """This process's resident memory."""
    return bench_scale.rss_mb(int(Path("/proc/self/stat").read_text().split()[0]))


def measure(dest: Path, asked: list[str], dim: int) -> dict[str, float]:
    """Open time, RSS, query latency, writes and ANN recall of the index at ``dest``."""
    out = {"rss_before_mb": rss_mb()}
    start = time.perf_counter()
    engine = Engine(open_segmented(dest), FakeEncoder(dim), RetrievalConfig())
    engine.ask(asked[0], 10)
    out.update(open_first_answer_s=time.perf_counter() - start, rss_open_mb=rss_mb())
    out.update(scale_inproc.query_latency(dest, dim, asked, None))
    out["rss_queried_mb"] = rss_mb()
    doc = parse_document("bench-new-doc.txt", "\n".join(bench_scale.sentences(bench_scale.SENTENCES_PER_DOC, seed=99)))
    for step, upserts, removals in (("add", [doc], []), ("replace", [replace(doc, original=doc.original)], []),
                                    ("delete", [], [doc.id])):  # fmt: skip
        start = time.perf_counter()
        engine = engine.with_changes(upserts, removals)
        out[f"{step}_s"] = time.perf_counter() - start
    out["recall10"] = scale_inproc.index_recall(dest, dim, asked[:200])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", type=Path)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--shared", type=Path, default=bench_scale.SHARED)
    args = parser.parse_args()
    bench_scale.SHARED = args.shared
    start = time.perf_counter()
    if not args.dest.exists():
        replicate(args.src, args.dest, args.copies)
    built = time.perf_counter() - start
    row = {"write_s": built, "disk_mb": bench_scale.dir_size(args.dest) / 2**20}
    row.update(measure(args.dest, bench_scale.questions(args.queries), open_segmented(args.dest).dim))
    print(json.dumps({k: round(v, 3) for k, v in row.items()}, indent=1))


if __name__ == "__main__":
    main()
