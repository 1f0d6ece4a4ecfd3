"""Scale benchmark: how build time, size, memory, start-up, query latency and writes grow with the corpus.

Usage: python scripts/bench_scale.py [--sizes 10000,100000,1000000] [--queries 1000] [--out DIR] [--model fake:384]
                                   [--shared DIR] [--real-queries] [--recall] [--backends memory,segments]

For each size it writes a synthetic corpus of that many *unique* Chinese sentences (clauses of the
../shared/bench corpora recombined, with their figures and years varied; ~40 sentences a document),
then, each step a separate process as a user would run it (``QA_INDEX_BACKEND=segments``):
  build     `qa index` from scratch (wall time; embedding cache in a temporary folder),
  size      the index directory on disk,
  ready     `qa serve` started until /readyz answers 200, and the server's RSS then,
  queries   --queries POST /v1/ask over loopback (p50/p99, server RSS after them),
  writes    PUT of a new 40-sentence document, PUT replacing it, DELETE (each its latency),
  inproc    the same questions through ``Engine.ask`` in this process (p50/p99), and with
            --real-queries also with each question encoded by the default model,
  recall    recall@10 of the index's ANN (HNSW) segments against exact search over the same vectors.
Vectors come from the deterministic fake encoder (``fake:384``: the default model's width)
because embedding a million sentences on two cores takes hours; the HTTP latencies therefore
exclude the query encoding and, the server's model not being the default one, the re-ranker and
the answerability model (the inproc columns include both, inproc_enc also the encoding). With
--recall it also prints recall@10 of HNSW and IVF against flat on real embeddings (the bench
corpora's vectors in the embedding cache).
One run, no repeats: the sizes differ by 10x, far more than machine noise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import scale_inproc

from embeddings import Encoder

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
QA = str(Path(sys.executable).parent / "qa")
BENCH_SETS = ("cmrc2018_dev", "drcd_dev", "xquad_zh")
SENTENCES_PER_DOC = 40
API_KEY = "bench-scale"
_SPLIT = re.compile(r"(?<=[，。；！？])")
_NUMBER = re.compile(r"\d+")


def clause_pool() -> tuple[list[str], list[str]]:
    """Clauses (ending in ，) and sentence ends (ending in 。) from the bench corpora."""
    heads: set[str] = set()
    tails: set[str] = set()
    for name in BENCH_SETS:
        with open(SHARED / "bench" / name / "corpus.jsonl", encoding="utf-8") as fh:
            for line in fh:
                for part in _SPLIT.split(json.loads(line)["text"]):
                    part = part.strip()
                    if 6 <= len(part) <= 60:
                        (heads if part.endswith("，") else tails if part.endswith("。") else set()).add(part)
    return sorted(heads), sorted(tails)


def sentences(count: int, seed: int = 7) -> Iterator[str]:
    """``count`` unique sentences: one to three clauses and an end, figures re-drawn."""
    rng = random.Random(seed)
    heads, tails = clause_pool()
    seen: set[str] = set()
    while len(seen) < count:
        parts = [rng.choice(heads) for _ in range(rng.randint(0, 2))] + [rng.choice(tails)]
        text = _NUMBER.sub(lambda m: str(rng.randint(1, 10 ** len(m.group())) - 1), "".join(parts))
        if text not in seen:
            seen.add(text)
            yield text


def write_corpus(path: Path, count: int) -> None:
    """A JSONL corpus of ``count`` unique sentences in documents of SENTENCES_PER_DOC sentences."""
    with path.open("w", encoding="utf-8") as out:
        batch: list[str] = []
        for i, sentence in enumerate(sentences(count)):
            batch.append(sentence)
            if len(batch) == SENTENCES_PER_DOC or i == count - 1:
                doc = {"id": f"doc{i // SENTENCES_PER_DOC:07d}", "title": f"合成文档{i // SENTENCES_PER_DOC}"}
                out.write(json.dumps({**doc, "text": "\n".join(batch)}, ensure_ascii=False) + "\n")
                batch = []


def questions(count: int, seed: int = 11) -> list[str]:
    """Real questions of the bench sets."""
    rows = []
    for name in BENCH_SETS:
        with open(SHARED / "bench" / name / "questions.jsonl", encoding="utf-8") as fh:
            rows += [json.loads(line)["question"] for line in fh]
    return random.Random(seed).sample(rows, min(count, len(rows)))


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(url: str, method: str = "GET", body: object = None) -> tuple[int, float]:
    """(status, seconds) of one HTTP request to the local server."""
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("X-API-Key", API_KEY)
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure_server(env: dict[str, str], index: Path, model: str, asked: list[str]) -> dict[str, float]:
    """Ready time, RSS, HTTP query latency and one-document write latencies of a served index."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [QA, "serve", "--index", str(index), "--model", model, "--port", str(port)]
    start = time.perf_counter()
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out: dict[str, float] = {}
    try:
        while True:
            try:
                if request(f"{base}/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.perf_counter() - start > 1800:
                raise RuntimeError("the server did not become ready")
            time.sleep(0.1)
        out["ready_s"] = time.perf_counter() - start
        out["rss_ready_mb"] = rss_mb(server.pid)
        latencies = [request(f"{base}/v1/ask", "POST", {"question": q, "top_k": 10})[1] for q in asked]
        out["http_p50_ms"] = 1000 * statistics.median(latencies)
        out["http_p99_ms"] = 1000 * percentile(latencies, 0.99)
        out["rss_queried_mb"] = rss_mb(server.pid)
        doc = {"text": "\n".join(sentences(SENTENCES_PER_DOC, seed=99)), "title": "新增文档"}
        for step, method, body in (
            ("add", "PUT", doc),
            ("replace", "PUT", {**doc, "title": "改"}),
            ("delete", "DELETE", None),
        ):
            status, seconds = request(f"{base}/v1/documents/bench-new-doc", method, body)
            out[f"{step}_s"] = seconds if status < 300 else float("nan")
    finally:
        server.terminate()
        server.wait(timeout=60)
    return out


def run_size(size: int, work: Path, model: str, asked: list[str], real: object, backend: str) -> dict[str, float]:
    corpus, index = work / f"corpus-{size}.jsonl", work / f"index-{size}-{backend}"
    if not corpus.exists():
        write_corpus(corpus.with_suffix(".tmp"), size)
        corpus.with_suffix(".tmp").rename(corpus)
    env = {
        **os.environ,
        "QA_CACHE_DIR": str(work / f"cache-{size}"),
        "QA_API_KEY": API_KEY,
        "QA_INDEX_BACKEND": backend,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    shutil.rmtree(index, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(
        [QA, "index", str(corpus), "--index", str(index), "--model", model],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    row = {"sentences": float(size), "build_s": time.perf_counter() - start, "disk_mb": dir_size(index) / 2**20}
    row.update(measure_server(env, index, model, asked))
    dim = int(model.split(":")[1]) if ":" in model else 384
    row.update(scale_inproc.query_latency(index, dim, asked, real, backend))  # type: ignore[arg-type]
    row["recall10"] = scale_inproc.index_recall(index, dim, asked[:200]) if backend == "segments" else float("nan")
    return row


def _real_encoder() -> Encoder:
    from embeddings import load_encoder
    from qa.settings import Settings

    return load_encoder("multilingual-e5-small", model_dir=Settings().model_dir)


def print_real_recall(model_id: str) -> None:
    """Recall@10 of IVF against flat on the cached real embeddings (of ``model_id``) of the bench sets."""
    from embeddings import CACHE_FILE
    from qa.settings import Settings

    sets = {}
    for name in BENCH_SETS:
        folder = SHARED / "bench" / name
        with open(folder / "questions.jsonl", encoding="utf-8") as fh:
            sets[name] = (folder / "corpus.jsonl", [json.loads(line)["question"] for line in fh])
    lines = scale_inproc.real_recall(Settings().cache_dir / CACHE_FILE, model_id, sets)
    print(lines[0])
    print("| view | vectors | index | search | depth k | recall@k | top-1 same |\n|---|---|---|---|---|---|---|")
    print("\n".join(lines[1:]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--model", default="fake:384")
    parser.add_argument("--out", type=Path, default=None, help="work folder (default: a temporary one, removed)")
    parser.add_argument("--shared", type=Path, default=SHARED, help="the folder holding bench/ (default ../shared)")
    parser.add_argument("--real-queries", action="store_true", help="also time queries encoded by the default model")
    parser.add_argument("--backends", default="segments", help="QA_INDEX_BACKEND values to measure, in turn")
    parser.add_argument("--recall", action="store_true", help="also print IVF recall on cached real embeddings")
    args = parser.parse_args()
    globals()["SHARED"] = args.shared
    real = _real_encoder() if args.real_queries else None
    if args.recall:
        print_real_recall(str((real or _real_encoder()).model_id))
    work = args.out or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    asked = questions(args.queries)
    columns = [
        "sentences",
        "build_s",
        "disk_mb",
        "ready_s",
        "rss_ready_mb",
        "http_p50_ms",
        "http_p99_ms",
        "rss_queried_mb",
        "add_s",
        "replace_s",
        "delete_s",
        "inproc_p50_ms",
        "inproc_p99_ms",
        *(["inproc_enc_p50_ms", "inproc_enc_p99_ms"] if real else []),
        "recall10",
    ]
    print("| backend | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    try:
        for size, backend in ((int(s), b) for s in args.sizes.split(",") for b in args.backends.split(",")):
            row = run_size(size, work, args.model, asked, real, backend)
            print(
                f"| {backend} | "
                + " | ".join(f"{row[c]:.0f}" if c == "sentences" else f"{row[c]:.2f}" for c in columns)
                + " |",
                flush=True,
            )
    finally:
        if args.out is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
