"""ASGI middleware: a cap on request body size, answered with the shared JSON error body."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PayloadTooLargeError, error_response, status_of


class BodyLimitMiddleware:
    """Answer 413 to any request whose body is over ``limit`` bytes, before the app reads it.

    A declared ``Content-Length`` over the limit is refused at once; a body without one
    (chunked) is read up to the limit, then handed to the app as it came.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.limit:
                await self._refuse(scope, receive, send, f"{int(declared)} bytes")
                return
            await self.app(scope, receive, send)
            return
        if b"chunked" not in headers.get(b"transfer-encoding", b"").lower():
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse(scope, receive, send, "more than that")
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, size: str) -> None:
        exc = PayloadTooLargeError(f"the request body is {size}; the limit is {self.limit} bytes (QA_MAX_UPLOAD_BYTES)")
        await error_response(status_of(exc), exc.code, str(exc))(scope, receive, send)
