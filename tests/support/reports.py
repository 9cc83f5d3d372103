"""Fetching a drill report's PDF, which a worker builds: asked again (as a client follows ``Location``, or the
console's page reloads) until it is ready."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.support.roster import wait_until


def ready_pdf(client: TestClient, url: str, *, timeout: float = 120.0, **kwargs: Any) -> httpx.Response:
    """The answer to ``GET url`` once it is no longer 202 (being prepared)."""
    answers: list[httpx.Response] = []

    def ready() -> bool:
        answers.append(client.get(url, **kwargs))
        return answers[-1].status_code != 202

    assert wait_until(ready, timeout=timeout, interval=0.2), "the PDF was never built"
    return answers[-1]
