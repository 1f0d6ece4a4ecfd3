"""The app the reliability suite runs against: a small index built with the fake encoder."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from api.server import server_config
from qa.settings import Settings
from tests.sample_docs import fake_app

DOCS = {
    "park.txt": "上清寺互联网产业园\n上清寺互联网产业园位于重庆市渝中区。该园区2018年新增企业300家。\n",
    "space.md": (
        "---\ntitle: U创空间\ndate: 2018-06-01\n---\n# U创空间\n\nU创空间2017年产值约2.5亿元。园区入驻企业120家。\n"
    ),
}
API_KEY = "test-key"


def make_app(root: Path, **overrides: object) -> FastAPI:
    """An app over DOCS indexed under ``root`` with the fake encoder (writes enabled with API_KEY)."""
    limits = {"api_key": API_KEY, "max_question_chars": 200, "max_upload_bytes": 1_000_000}
    return fake_app(root, DOCS, **{**limits, **overrides})


@contextmanager
def serving(app: FastAPI, settings: Settings) -> Iterator[str]:
    """``app`` served as ``qa serve`` serves it, on a free loopback port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(server_config(app, settings, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
