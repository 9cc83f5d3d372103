"""Request body caps per route, enforced while the body streams in: nothing larger than a route's cap is ever held
in memory (docs/security.md). The caps are listed in one place, ``alueturva.app.wiring.body_limits``.

A body announced larger than its cap (``Content-Length``) is answered 413 before any of it is read; a streamed body
is cut with a 413 as soon as it passes the cap. The middleware sits inside the API-key check
(``alueturva.auth.gate``), so an unauthenticated upload gets 401 whatever its size. (Starlette's own body limit
answers 413 to any over-sized request, also before authentication, and in plain text.)
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alueturva.digits import ascii_int


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"the request body is larger than this route accepts ({limit} bytes)")


class BodyLimits:
    """ASGI middleware: ``limits`` are (path prefix, bytes); the longest matching prefix wins, else ``default``."""

    def __init__(self, app: ASGIApp, *, limits: Sequence[tuple[str, int]], default: int) -> None:
        self.app = app
        self.limits = sorted(limits, key=lambda item: len(item[0]), reverse=True)
        self.default = default

    def limit_for(self, path: str) -> int:
        return next((limit for prefix, limit in self.limits if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        announced = Headers(scope=scope).get("content-length", "")
        if (length := ascii_int(announced)) is not None and length > limit:
            error = BodyTooLarge(limit)
            await JSONResponse({"detail": error.detail}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, capped_receive, send)
