"""Domain errors that the HTTP face turns into a 4xx ``{"detail": ...}`` and the CLI into a message and exit 1."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class DomainError(Exception):
    status_code = 400

    def __init__(self, detail: Any) -> None:
        super().__init__(detail if isinstance(detail, str) else repr(detail))
        self.detail = detail


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Invalid(DomainError):
    status_code = 422


class ErrorBody(BaseModel):
    detail: Any


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the 4xx answers a router gives, all shaped ``{"detail": ...}``."""
    descriptions = {
        400: "Bad request",
        401: "Missing, unknown or revoked API key",
        403: "The key's role may not do this (a webhook: not signed by the provider)",
        404: "No such resource",
        409: "Conflicts with existing data",
        413: "The request body is larger than this route accepts",
        422: "Invalid input; the detail says which field and why",
        429: "Too many failed attempts from this client; wait as Retry-After says",
        503: "The database is not answering; try again in a moment",
    }
    return {code: {"model": ErrorBody, "description": descriptions[code]} for code in codes}


API_ERRORS = error_responses(401, 403, 404, 409, 422)
