"""How ``qa serve`` listens: uvicorn with a deadline for reading each request and a cap on connections.

A client gets ``QA_READ_TIMEOUT`` seconds from its connection (or from the first byte of its
next request on a kept-alive connection) to send a whole request, headers and body; one that
trickles bytes is cut when the deadline passes, however steadily it sends. At most
``QA_MAX_CONNECTIONS`` connections and requests are served at once; beyond that the answer is
503 at once. Idle kept-alive connections close after 5 s (uvicorn's keep-alive timeout).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from qa.settings import Settings

#: States of the client's half of a connection while the server is still reading its request.
_READING = (h11.IDLE, h11.SEND_BODY)


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request is not read within ``read_timeout`` seconds."""

    read_timeout: float = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request."""
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        """Start the clock at the first byte of a request; stop it once the request is read."""
        super().data_received(data)
        if self.conn.their_state not in _READING:
            self._disarm()
        elif self._deadline is None and not self.transport.is_closing():
            self._arm()

    def on_response_complete(self) -> None:
        """Between requests, uvicorn's keep-alive timeout applies instead."""
        self._disarm()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the clock of a closed connection."""
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self.read_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self) -> None:
        self._deadline = None
        if self.conn.their_state in _READING and not self.transport.is_closing():
            self.logger.info("closing a connection whose request was not read within %.0f s", self.read_timeout)
            self.transport.close()


def server_config(app: Any, settings: Settings, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration of ``qa serve`` (``options`` are passed on, e.g. ``log_level``)."""
    protocol = type("ServeProtocol", (DeadlineH11Protocol,), {"read_timeout": settings.read_timeout})
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=protocol,
        limit_concurrency=settings.max_connections,
        timeout_keep_alive=5,
        **options,
    )
