"""Whole-process measures for scripts/bench_speed.py: ``qa index`` on a cold embedding cache and ``qa serve``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from qa.ingest import iter_documents, segment


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size of a process in MiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def first_documents(corpus: Path, limit: int, out: Path) -> list[str]:
    """Write the first documents of a JSONL corpus up to ``limit`` sentences to ``out``; their sentences.

    The sentences (``limit`` or a few more: documents are taken whole) are segmented as ``qa index``
    segments them, so a bare encode of them and ``qa index`` of ``out`` embed the same texts.
    """
    texts: list[str] = []
    ids: set[str] = set()
    for doc in iter_documents([corpus]):
        texts += [chunk.text for chunk in segment(doc)]
        ids.add(doc.id)
        if len(texts) >= limit:
            break
    lines = [line for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(line for line in lines if json.loads(line)["id"] in ids) + "\n", encoding="utf-8")
    return texts


def qa_command(*args: str) -> list[str]:
    """``qa ARGS`` in a child process (the code it runs is the one ``PYTHONPATH`` names, see :func:`engine_env`)."""
    return [sys.executable, "-c", "from api.cli import app; app()", *args]


def engine_env(root: Path, backend: str, threads: int | None, **extra: str) -> dict[str, str]:
    """The environment of a child ``qa`` process with one engine."""
    env = dict(os.environ, QA_ENCODER_BACKEND=backend, PYTHONPATH=str(root), **extra)
    env.pop("QA_THREADS", None)
    if threads:
        env["QA_THREADS"] = str(threads)
    return env


def index_seconds(root: Path, backend: str, threads: int | None, corpus: Path, work: Path, model_dir: Path) -> float:
    """Wall seconds of ``qa index CORPUS`` as a whole process, from a cold (empty) embedding cache."""
    cache, index = work / "cache", work / "index"
    for folder in (cache, index):
        shutil.rmtree(folder, ignore_errors=True)
    env = engine_env(root, backend, threads, QA_CACHE_DIR=str(cache), QA_MODEL_DIR=str(model_dir))
    started = time.perf_counter()
    subprocess.run(qa_command("index", str(corpus), "--index", str(index), "-q"), env=env, check=True)
    return time.perf_counter() - started


def _post(url: str, payload: dict[str, object]) -> None:
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as reply:
        reply.read()


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise RuntimeError(f"server did not become ready at {url}")


def server_report(
    root: Path, backend: str, qs: list[str], rounds: int, workdir: Path, port: int, model_dir: Path
) -> dict[str, object]:
    """RSS and ``/v1/ask`` latency of ``qa serve`` on the seeds with one engine (the index built first)."""
    index = workdir / f"index-{backend}"
    env = engine_env(root, backend, None, QA_MODEL_DIR=str(model_dir))
    build = qa_command("index", str(root / "seeds"), "--index", str(index), "-q")
    subprocess.run(build, env=env, check=True, capture_output=True)
    serve = qa_command("serve", "--index", str(index), "--port", str(port))
    proc = subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
        started_rss = rss_mb(proc.pid)
        times = []
        for step in range(rounds * len(qs)):
            started = time.perf_counter()
            _post(f"http://127.0.0.1:{port}/v1/ask", {"question": qs[step % len(qs)], "top_k": 5})
            times.append((time.perf_counter() - started) * 1000)
        return {"rss_start_mb": started_rss, "rss_mb": rss_mb(proc.pid), "ask_ms": times}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
