"""The FastAPI application factory."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from alueturva.app import web, wiring
from alueturva.db import get_database
from alueturva.errors import DomainError
from alueturva.metrics import HTTP_LATENCY, HTTP_REQUESTS
from alueturva.queue import get_queue

log = logging.getLogger("alueturva.http")


def _route_template(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", "unmatched")


async def _observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    elapsed = time.perf_counter() - started
    route = _route_template(request)
    HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    HTTP_LATENCY.labels(request.method, route).observe(elapsed)
    log.info(
        "request",
        extra={
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "ms": round(elapsed * 1000, 1),
            "actor": getattr(request.state, "actor", None),
        },
    )
    return response


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)


async def _integrity_error(_: Request, exc: Exception) -> JSONResponse:
    log.warning("integrity error", extra={"error": type(exc).__name__})
    return JSONResponse(
        {"detail": "the change conflicts with existing data (a duplicate or a reference still in use)"},
        status_code=409,
    )


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
    app.middleware("http")(_observe)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(IntegrityError, _integrity_error)

    @app.get("/healthz", tags=["health"])
    def healthz() -> JSONResponse:
        body, status_code = _health()
        return JSONResponse(body, status_code=status_code)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in wiring.routers():
        app.include_router(router)
    web.install(app)
    wiring.connect_domains()
    return app
