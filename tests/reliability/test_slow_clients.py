"""Slow clients are cut within a bounded time while `/healthz` keeps answering."""

from __future__ import annotations

import select
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from qa.settings import Settings
from tests.reliability.reliability_app import make_app, serving

READ_TIMEOUT_S = 1.0
#: How long the test waits for the server to cut every slow client: a bound, not a measurement.
GIVE_UP_S = 20.0
HEADERS = b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: "
BODY = b'POST /v1/ask HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"q'


def _closed(sock: socket.socket) -> bool:
    """Whether the server has given up on the connection (closed it, or answered a request never finished)."""
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def test_trickling_clients_are_cut_and_healthz_stays_up(tmp_path: Path) -> None:
    app = make_app(tmp_path, read_timeout=READ_TIMEOUT_S)
    settings: Settings = app.state.qa.settings
    with serving(app, settings) as base:
        address = urlsplit(base)
        slow = []
        for start in [HEADERS] * 20 + [BODY] * 20:
            sock = socket.create_connection((address.hostname, address.port))
            sock.sendall(start)
            slow.append(sock)
        open_now = list(slow)
        healthy = 0
        deadline = time.monotonic() + GIVE_UP_S
        while open_now and time.monotonic() < deadline:
            for sock in list(open_now):
                try:
                    sock.send(b"a")  # one byte at a time, steadily
                except OSError:
                    open_now.remove(sock)
                    continue
                if _closed(sock):
                    open_now.remove(sock)
            healthy += httpx.get(f"{base}/healthz", timeout=5).status_code == 200
            time.sleep(0.2)
        for sock in slow:
            sock.close()
        assert not open_now, f"{len(open_now)} of {len(slow)} slow clients still connected after {GIVE_UP_S} s"
        assert healthy >= 1
        assert httpx.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
