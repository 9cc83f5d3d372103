"""The API-key check before anything else: every ``/api/`` request is authenticated before its body is read, so an
unauthenticated upload costs one header and a hash lookup (401), never its body (docs/security.md).

Failed authentications (a key that is present but unknown or revoked) are counted per client address
(``ALUETURVA_AUTH_FAILURES_PER_MINUTE``); past the limit a failure is answered 429 with ``Retry-After`` (a valid
key is never refused: ``alueturva.throttling``). The principal found is kept in the request's state for the
routes' role checks (``alueturva.auth.dependencies``).
"""

from __future__ import annotations

import logging

import anyio
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from alueturva.auth.service import Principal, principal_for_key
from alueturva.db import get_database
from alueturva.throttling import auth_failures, client_address, retry_after_header, throttle_for

log = logging.getLogger(__name__)

GUARDED_PREFIX = "/api/"
MISSING_KEY = "missing API key: send 'Authorization: Bearer <key>'"
UNKNOWN_KEY = "unknown or revoked API key"
DATABASE_AWAY = "the database is not answering; try again in a moment"
DATABASE_RETRY_AFTER = {"Retry-After": "5"}


def bearer_key(authorization: str | None) -> str | None:
    """The key in ``Authorization: Bearer <key>``, or None."""
    scheme, _, key = (authorization or "").partition(" ")
    return key.strip() or None if scheme.lower() == "bearer" else None


def lookup(key: str) -> Principal | None:
    with get_database().session() as session:
        return principal_for_key(session, key=key)


def unauthorised(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"})


class AuthenticationGate:
    """ASGI middleware in front of every ``/api/`` route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(GUARDED_PREFIX):
            await self.app(scope, receive, send)
            return
        refusal, principal = await self._authenticate(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> tuple[JSONResponse | None, Principal | None]:
        key = bearer_key(Headers(scope=scope).get("authorization"))
        if key is None:
            return unauthorised(MISSING_KEY), None
        try:
            principal = await anyio.to_thread.run_sync(lookup, key)
        except SQLAlchemyError as exc:
            log.warning("authentication not possible: database", extra={"error": type(exc).__name__})
            return JSONResponse({"detail": DATABASE_AWAY}, status_code=503, headers=DATABASE_RETRY_AFTER), None
        if principal is None:
            address = client_address(scope)
            log.info("unknown API key", extra={"address": address})
            if (wait := await throttle_for(scope["app"].state).hit(auth_failures(), address)) is not None:
                detail = "too many failed authentications from this address; try again later"
                return JSONResponse({"detail": detail}, status_code=429, headers=retry_after_header(wait)), None
            return unauthorised(UNKNOWN_KEY), None
        return None, principal
