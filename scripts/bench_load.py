"""Load benchmark: N concurrent clients asking questions of `qa serve` for T seconds, writes mixed in.

Usage: python scripts/bench_load.py [--clients 16] [--seconds 60] [--write-every 3] [--index DIR] [--model M]

Starts `qa serve` on 127.0.0.1 (a free port; never another address) over a copy of the index
at --index (built from --corpus, default seeds/, when there is none), waits until it is ready,
then runs --clients threads that each POST /v1/ask in a loop with the seed dev questions until
--seconds have passed. With --write-every S (0: none), one more client PUTs a document every S
seconds and deletes it on the next turn. Prints requests, errors, requests/s, p50/p99 latency
of the reads and writes, and the server's RSS after start-up and at the end. Every request has
a timeout, and the server is stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
QUESTIONS = ROOT.parent / "shared" / "eval" / "seed_questions_dev.jsonl"
FALLBACK_QUESTIONS = [
    "U创空间2017年的产值是多少？",
    "梦想小街产业园的主体建筑面积是多少？",
    "渝中区的算力规模目标是多少？",
]
REQUEST_TIMEOUT_S = 60.0
READY_TIMEOUT_S = 900.0


@dataclass
class Tally:
    """Latencies (s) of the requests that succeeded, and the count of those that did not."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, ok: bool) -> None:
        with self.lock:
            if ok:
                self.latencies.append(seconds)
            else:
                self.errors += 1

    def describe(self, name: str, wall: float) -> str:
        done = len(self.latencies) + self.errors
        if not self.latencies:
            return f"{name}: {done} requests, {self.errors} errors"
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000
        return f"{name}: {done} requests, {self.errors} errors, {done / wall:.1f}/s, p50 {p50:.0f} ms, p99 {p99:.0f} ms"


def questions(path: Path) -> list[str]:
    if not path.is_file():
        return FALLBACK_QUESTIONS
    return [json.loads(line)["question"] for line in path.read_text("utf-8").splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(index: Path, port: int, key: str, args: argparse.Namespace, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "QA_API_KEY": key, "QA_CORPUS": str(args.corpus), "PYTHONPATH": str(ROOT)}
    serve = [sys.executable, "-c", "from api.cli import app; app()", "serve"]
    command = [*serve, "--index", str(index), "--host", HOST, "--port", str(port)]
    if args.model:
        command += ["--model", args.model]
    with log.open("wb") as out:  # the server's log (one line per request) stays out of the report
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=out)


def wait_ready(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log.read_text("utf-8", errors="replace").splitlines()[-5:]
            raise SystemExit(f"qa serve exited with {server.returncode}:\n" + "\n".join(tail))
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(1)
    raise SystemExit(f"qa serve was not ready within {READY_TIMEOUT_S:.0f} s")


def reader(base: str, texts: list[str], offset: int, until: float, tally: Tally) -> None:
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT_S) as client:
        n = offset
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                ok = client.post("/v1/ask", json={"question": texts[n % len(texts)], "top_k": 5}).status_code == 200
            except httpx.HTTPError:
                ok = False
            tally.add(time.perf_counter() - started, ok)
            n += 1


def writer(base: str, key: str, every: float, until: float, tally: Tally) -> None:
    headers = {"X-API-Key": key}
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT_S, headers=headers) as client:
        turn = 0
        while time.monotonic() + every < until:
            time.sleep(every)
            started = time.perf_counter()
            doc = "bench/load-test.txt"
            try:
                if turn % 2 == 0:
                    text = f"负载测试文档\n第{turn}次写入：园区2024年新增企业{turn}家。\n"
                    ok = client.put(f"/v1/documents/{doc}", json={"text": text}).status_code in {200, 201}
                else:
                    ok = client.delete(f"/v1/documents/{doc}").status_code == 200
            except httpx.HTTPError:
                ok = False
            tally.add(time.perf_counter() - started, ok)
            turn += 1


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 1e6


def run(args: argparse.Namespace, work: Path) -> None:
    index = work / "index"
    if (args.index / "manifest.json").is_file():
        shutil.copytree(args.index, index)
    port, key = free_port(), secrets.token_hex(16)
    base = f"http://{HOST}:{port}"
    log = work / "server.log"
    server = start_server(index, port, key, args, log)
    try:
        wait_ready(base, server, log)
        texts = questions(args.questions)
        httpx.post(f"{base}/v1/ask", json={"question": texts[0]}, timeout=REQUEST_TIMEOUT_S)  # warm-up
        before = rss_mb(server.pid)
        reads, writes = Tally(), Tally()
        started = time.monotonic()
        until = started + args.seconds
        threads = [threading.Thread(target=reader, args=(base, texts, i, until, reads)) for i in range(args.clients)]
        if args.write_every > 0:
            threads.append(threading.Thread(target=writer, args=(base, key, args.write_every, until, writes)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + 2 * REQUEST_TIMEOUT_S)
        wall = time.monotonic() - started
        after = rss_mb(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    writes_note = f"a write every {args.write_every:g} s" if args.write_every > 0 else "reads only"
    print(f"{args.clients} clients, {args.seconds:g} s, {writes_note}")
    print(reads.describe("reads (POST /v1/ask)", wall))
    if args.write_every > 0:
        print(writes.describe("writes (PUT/DELETE /v1/documents)", wall))
    print(f"server RSS: {before:.0f} MB after start-up -> {after:.0f} MB at the end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--write-every", type=float, default=0.0, help="seconds between writes (0: reads only)")
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "index", help="index to copy (built if absent)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "seeds")
    parser.add_argument("--model", default=None, help="embedding model (default: the server's QA_MODEL)")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="JSONL of questions the clients ask")
    args = parser.parse_args()
    if not 1 <= args.clients <= 256 or not 0 < args.seconds <= 3600:
        raise SystemExit("use 1-256 clients and 1-3600 seconds")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as work:
        run(args, Path(work))


if __name__ == "__main__":
    main()
