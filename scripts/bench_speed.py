"""Encoder speed of the default model: torch fp32 against ONNX Runtime fp32 and int8, 1 and 2 threads.

Usage: python scripts/bench_speed.py [--sentences 2000] [--blocks 4] [--rounds 5] [--server]
       [--index ENGINE:THREADS,...] [--before CHECKOUT] [--out FILE]

One run, variants alternated so machine noise hits all alike: the sentences (cmrc2018_dev,
segmented as ``qa index`` does) are split into blocks and every block is encoded by every
variant in rotated order (batch 32); each seed question is encoded alone by every variant in
rotated order, ``--rounds`` times. Model load time, RSS and whether torch was imported are
measured in a fresh child process per engine. Cosines are to torch fp32 (2 threads) on the same
sentences. ``--server`` also starts ``qa serve`` on the seeds with each engine and reports its
RSS and ``/v1/ask`` latency against the engine's bare query encode. ``--index onnx:2,torch:2``
times ``qa index`` of the same sentences' documents as whole processes on a cold embedding
cache, per engine and thread count, for this checkout and (``--before``) another one. Ratios
are to torch fp32 with 2 threads in the same run; the load average is printed at both ends.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from speed_processes import first_documents, index_seconds, rss_mb, server_report  # noqa: E402

from embeddings import Encoder, load_encoder  # noqa: E402
from embeddings.encoders import load_onnx_default  # noqa: E402
from qa.settings import Settings  # noqa: E402

SHARED = ROOT.parent / "shared"
BASELINE = "torch fp32 2t"
ENGINES = {"torch fp32": ("torch", "fp32"), "onnx fp32": ("onnx", "fp32"), "onnx int8": ("onnx", "int8")}


def load_variant(engine: str, precision: str, threads: int | None, model_dir: Path) -> Encoder:
    """One variant of the default model."""
    if engine == "torch":
        return load_encoder(None, model_dir=model_dir, backend="torch", device="cpu", threads=threads)
    return load_onnx_default(model_dir, precision=precision, threads=threads)


def questions(shared: Path) -> list[str]:
    """The seed dev questions."""
    with (shared / "eval" / "seed_questions_dev.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line)["question"] for line in handle if line.strip()]


def make_variants(model_dir: Path) -> dict[str, Callable[[], Encoder]]:
    """Name -> encoder, loaded once; torch's threads are set before each use (they are process-wide)."""
    import torch

    variants: dict[str, Callable[[], Encoder]] = {}
    torch_encoder = load_variant("torch", "fp32", None, model_dir)
    for threads in (1, 2):
        variants[f"torch fp32 {threads}t"] = lambda t=threads: (torch.set_num_threads(t), torch_encoder)[1]
    for precision in ("fp32", "int8"):
        for threads in (1, 2):
            encoder = load_variant("onnx", precision, threads, model_dir)
            variants[f"onnx {precision} {threads}t"] = lambda e=encoder: e
    return variants


def rotated(names: list[str], step: int) -> list[str]:
    return names[step % len(names) :] + names[: step % len(names)]


def throughput(variants: dict[str, Callable[[], Encoder]], texts: list[str], blocks: int) -> dict[str, dict]:
    """Sentences/s of a bare encode per variant, and each variant's vectors (blocks rotated)."""
    names, size = list(variants), -(-len(texts) // blocks)
    seconds = dict.fromkeys(names, 0.0)
    vectors: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for step in range(blocks):
        block = texts[step * size : (step + 1) * size]
        for name in rotated(names, step):
            encoder = variants[name]()
            started = time.perf_counter()
            vectors[name].append(encoder.encode_documents(block, batch_size=32))
            seconds[name] += time.perf_counter() - started
    return {name: {"sent_s": len(texts) / seconds[name], "vectors": np.concatenate(vectors[name])} for name in names}


def query_latency(variants: dict[str, Callable[[], Encoder]], qs: list[str], rounds: int) -> dict[str, list[float]]:
    """Milliseconds of one-question encodes per variant (order rotated per question)."""
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    for name in names:  # warm-up
        variants[name]().encode_queries(qs[:2])
    for step in range(rounds * len(qs)):
        for name in rotated(names, step):
            encoder = variants[name]()
            started = time.perf_counter()
            encoder.encode_queries([qs[step % len(qs)]])
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def child_report(engine: str, precision: str, model_dir: Path) -> dict[str, object]:
    """Load time and RSS of one engine in this (fresh) process, after encoding a few queries."""
    started = time.perf_counter()
    encoder = load_variant(engine, precision, None, model_dir)
    load_s = time.perf_counter() - started
    encoder.encode_queries(["重庆是哪一级城市？", "What is the capital of Zhejiang?"])
    return {"load_s": load_s, "rss_mb": rss_mb(), "torch": "torch" in sys.modules}


def fresh_process_reports(model_dir: Path, rounds: int = 2) -> dict[str, dict]:
    """``child_report`` of each engine, in child processes alternated ``rounds`` times (median load)."""
    runs: dict[str, list[dict]] = {name: [] for name in ENGINES}
    for step in range(rounds):
        for name in rotated(list(ENGINES), step):
            engine, precision = ENGINES[name]
            command = [sys.executable, __file__, "--child", engine, precision, "--model-dir", str(model_dir)]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {
        name: {**items[-1], "load_s": statistics.median(float(r["load_s"]) for r in items)}
        for name, items in runs.items()
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def table(speed: dict[str, dict], latency: dict[str, list[float]], fresh: dict[str, dict]) -> str:
    base_speed, base_p50 = speed[BASELINE]["sent_s"], statistics.median(latency[BASELINE])
    reference = speed[BASELINE]["vectors"]
    lines = [
        "| variant | batch sent/s (× torch 2t) | query p50 / p99 ms (× torch 2t) | load s | RSS MB | cos min / mean |",
        "|---|---|---|---|---|---|",
    ]
    for name, result in speed.items():
        fresh_row = fresh.get(name.rsplit(" ", 1)[0], {})
        cos = np.sum(result["vectors"] * reference, axis=1)
        p50, p99 = statistics.median(latency[name]), percentile(latency[name], 0.99)
        load = f"{fresh_row['load_s']:.1f}" if fresh_row else "-"
        rss = f"{fresh_row['rss_mb']:.0f}{'' if fresh_row.get('torch') else ' (no torch)'}" if fresh_row else "-"
        lines.append(
            f"| {name} | {result['sent_s']:.1f} ({result['sent_s'] / base_speed:.2f}×) | "
            f"{p50:.1f} / {p99:.1f} ({p50 / base_p50:.2f}×) | {load} | {rss} | {cos.min():.4f} / {cos.mean():.4f} |"
        )
    return "\n".join(lines)


def index_table(roots: dict[str, Path], engines: list[str], corpus: Path, n: int, model_dir: Path, bare: float) -> str:
    """``qa index`` end to end (whole process, cold cache) per code and engine, alternated, against ``bare``."""
    lines = [
        f"| qa index of {n} sentences, cold cache | code | wall s | sent/s | × bare torch fp32 2t |",
        "|---|---|---|---|---|",
    ]
    runs = [(label, root, engine) for engine in engines for label, root in roots.items()]
    work = Path(tempfile.mkdtemp(prefix="chuchu-bench-index-"))
    for label, root, engine in runs:
        backend, threads = engine.split(":")
        seconds = index_seconds(root, backend, int(threads), corpus, work, model_dir)
        rate = n / seconds
        lines.append(f"| {backend} {threads}t | {label} | {seconds:.1f} | {rate:.1f} | {rate / bare:.2f}× |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


def server_table(root: Path, qs: list[str], rounds: int, port: int, model_dir: Path, bare_p50: dict[str, float]) -> str:
    """``qa serve`` on the seeds per engine: RSS and /v1/ask latency, against the engine's bare query encode."""
    lines = [
        "| qa serve on the seeds | RSS MB at start / after | /v1/ask p50 / p99 ms | × bare query p50 |",
        "|---|---|---|---|",
    ]
    for backend, bare_name in (("torch", "torch fp32 2t"), ("onnx", "onnx int8 2t")):
        work = Path(tempfile.mkdtemp(prefix="chuchu-bench-serve-"))
        got = server_report(root, backend, qs, rounds, work, port, model_dir)
        ask = got["ask_ms"]
        assert isinstance(ask, list)
        p50 = statistics.median(ask)
        lines.append(
            f"| {backend} | {got['rss_start_mb']:.0f} / {got['rss_mb']:.0f} | {p50:.1f} / {percentile(ask, 0.99):.1f} "
            f"| {p50 / bare_p50[bare_name]:.2f}× |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--blocks", type=int, default=4, help="blocks the sentences are split into for rotation")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the seed questions")
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared folder with bench/ and eval/")
    parser.add_argument("--server", action="store_true", help="also measure qa serve on the seeds per engine")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--index", default="", metavar="ENGINE:THREADS,...", help="qa index runs, e.g. onnx:2,torch:2")
    parser.add_argument("--before", type=Path, default=None, help="another checkout: its qa index measured too")
    parser.add_argument("--out", type=Path, default=None, help="also write the report here")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "PRECISION"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    model_dir = args.model_dir or Settings().model_dir
    if args.child:
        print(json.dumps(child_report(args.child[0], args.child[1], model_dir)))
        return
    load_before = os.getloadavg()
    corpus = Path(tempfile.mkdtemp(prefix="chuchu-bench-corpus-")) / "corpus.jsonl"
    texts = first_documents(args.shared / "bench" / "cmrc2018_dev" / "corpus.jsonl", args.sentences, corpus)
    fresh = fresh_process_reports(model_dir)
    variants, qs = make_variants(model_dir), questions(args.shared)
    speed, latency = throughput(variants, texts, args.blocks), query_latency(variants, qs, args.rounds)
    report = f"{len(texts)} cmrc2018_dev sentences, {len(qs)} seed questions × {args.rounds}\n\n"
    report += table(speed, latency, fresh)
    print(report, flush=True)
    if args.index:
        roots = {"this": ROOT, **({"before": args.before.resolve()} if args.before else {})}
        bare = speed[BASELINE]["sent_s"]
        report += "\n\n" + index_table(roots, args.index.split(","), corpus, len(texts), model_dir, bare)
    if args.server:
        bare_p50 = {name: statistics.median(times) for name, times in latency.items()}
        report += "\n\n" + server_table(ROOT, qs, args.rounds, args.port, model_dir, bare_p50)
    load_after = os.getloadavg()
    report += f"\n\nload average (1, 5, 15 min) at start {load_before}, at the end {load_after}"
    print(report)
    if args.out:
        args.out.write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
