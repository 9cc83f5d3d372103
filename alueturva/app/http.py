"""The FastAPI application factory."""

from __future__ import annotations

import gc
import hmac
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alueturva.app import web, wiring
from alueturva.app.bootstrap import boot
from alueturva.auth.gate import DATABASE_AWAY, DATABASE_RETRY_AFTER, AuthenticationGate, bearer_key
from alueturva.bodylimits import BodyLimits
from alueturva.config_check import is_loopback_host
from alueturva.db import get_database
from alueturva.errors import DomainError, error_responses
from alueturva.logging import configure_logging
from alueturva.metrics import HTTP_LATENCY, HTTP_REQUESTS
from alueturva.queue import get_queue
from alueturva.settings import get_settings

log = logging.getLogger("alueturva.http")


class RequestObserver:
    """Every request's line in the log and its metrics (count by method, route template and status; latency), taken
    when the answer starts. Plain ASGI: Starlette's ``BaseHTTPMiddleware`` (``app.middleware("http")``) ran each
    request in a task of its own with memory streams, about a millisecond of CPU a request (issue 24)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                _observe(scope, message["status"], time.perf_counter() - started)
            await send(message)

        await self.app(scope, receive, observed)


def _observe(scope: Scope, status: int, elapsed: float) -> None:
    method, route = scope["method"], getattr(scope.get("route"), "path", "unmatched")
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(elapsed)
    log.info(
        "request",
        extra={
            "method": method,
            "route": route,
            "status": status,
            "ms": round(elapsed * 1000, 1),
            "actor": scope.get("state", {}).get("actor"),
        },
    )


HSTS = "max-age=31536000"  # a year; subdomains are not ours to speak for


class StrictTransport:
    """Every answer says ``Strict-Transport-Security`` when people reach the service at an https address, so that a
    browser never again tries it over plain HTTP (behind the TLS proxy the service itself speaks plain HTTP)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not get_settings().secure_cookies:
            await self.app(scope, receive, send)
            return

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_hsts)


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)


async def _integrity_error(_: Request, exc: Exception) -> JSONResponse:
    log.warning("integrity error", extra={"error": type(exc).__name__})
    return JSONResponse(
        {"detail": "the change conflicts with existing data (a duplicate or a reference still in use)"},
        status_code=409,
    )


async def _database_away(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database not answering", extra={"error": type(exc).__name__})
    return JSONResponse({"detail": DATABASE_AWAY}, status_code=503, headers=DATABASE_RETRY_AFTER)


MAX_ECHO = 200  # characters of a refused input repeated in a 422
MAX_ERRORS = 50


# A run of 7 or more digits (spaces, dashes and a leading + allowed): a phone number, masked where an error echoes it.
PHONE_NUMBER = re.compile(r"\+?\d[\d \-]{5,}\d")


def mask_numbers(text_: str) -> str:
    """``+358401234567`` as ``…67``: an error answer never repeats a phone number (docs/personal-data.md)."""
    return PHONE_NUMBER.sub(lambda match: "…" + match.group()[-2:], text_)


def _echo(value: Any) -> Any:
    """A refused input as the 422 repeats it: whole when short, else its first characters and its length; phone
    numbers masked."""
    text_ = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    if PHONE_NUMBER.search(text_):
        text_ = value = mask_numbers(text_)
    if len(text_) <= MAX_ECHO:
        return value
    return f"{text_[:MAX_ECHO]}… ({len(text_)} characters)"


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 with each error's ``input`` (and context) shortened: a 10 MB field is not sent back."""
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in jsonable_encoder(exc.errors()[:MAX_ERRORS]):
        if "input" in error:
            error["input"] = _echo(error["input"])
        if isinstance(error.get("ctx"), dict):
            error["ctx"] = {key: _echo(value) for key, value in error["ctx"].items()}
        errors.append(error)
    return JSONResponse({"detail": errors}, status_code=422)


def _metrics_refusal(request: Request) -> JSONResponse | None:
    """``/metrics`` with ``METRICS_TOKEN`` set: the bearer token from anywhere; without it: loopback clients only."""
    token = get_settings().metrics_token
    if token is not None:
        given = bearer_key(request.headers.get("authorization")) or ""
        if hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
            return None
        return JSONResponse(
            {"detail": "send 'Authorization: Bearer <ALUETURVA_METRICS_TOKEN>'"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    if is_loopback_host(request.client.host if request.client else None):
        return None
    detail = "metrics are served to loopback clients only; set ALUETURVA_METRICS_TOKEN to scrape them from elsewhere"
    return JSONResponse({"detail": detail}, status_code=403)


def _health() -> tuple[dict[str, str], int]:
    database = "ok"
    try:
        with get_database().session() as session:
            session.execute(text("SELECT 1"))
    except Exception:
        database = "unavailable"
    queue = "ok" if get_queue().ping() else "unavailable"
    healthy = database == "ok" and queue == "ok"
    return {"status": "ok" if healthy else "degraded", "database": database, "queue": queue}, (200 if healthy else 503)


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    """Move everything loaded at start-up out of the garbage collector's sight, so that collections during
    requests (a burst of acknowledgements at 03:00) have only the requests' own objects to walk."""
    gc.collect()
    gc.freeze()
    yield


def create_app() -> FastAPI:
    app = FastAPI(
        lifespan=_lifespan,
        title="Alueturva",
        version="0.1.0",
        description="Preparedness situational awareness and alerting for Central Ostrobothnia.",
        docs_url=None,  # served by the web face from local files (alueturva.app.web.apidocs)
        redoc_url=None,
    )
    # outermost last: request log and metrics, then the API-key check, then the body caps (inside the check, so an
    # unauthenticated upload is refused whatever its size)
    app.add_middleware(BodyLimits, limits=wiring.body_limits(), default=wiring.DEFAULT_BODY_LIMIT)
    app.add_middleware(AuthenticationGate)
    app.add_middleware(RequestObserver)
    app.add_middleware(StrictTransport)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for database_error in (OperationalError, InterfaceError):
        app.add_exception_handler(database_error, _database_away)

    @app.get("/healthz", tags=["health"])
    def healthz() -> JSONResponse:
        body, status_code = _health()
        return JSONResponse(body, status_code=status_code)

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        return _metrics_refusal(request) or Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in wiring.routers():
        app.include_router(router, responses=error_responses(413, 429, 503))
    web.install(app)
    boot()
    return app


def create_served_app() -> FastAPI:
    """The app as ``alueturva serve`` runs it. Uvicorn starts each of ``--workers`` API processes afresh, importing
    this factory: each sets up the service's JSON log itself, or its request lines would be lost."""
    configure_logging()
    return create_app()
