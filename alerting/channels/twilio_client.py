"""What the Twilio channels share: the SDK client on aiohttp (with a time-out that holds, and another API host for
tests and benchmarks), its errors in our terms, and the ``X-Twilio-Signature`` check of every webhook."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from alerting.channels.base import PermanentSendError, TransientSendError, WebhookRefused
from alueturva.digits import ascii_int
from alueturva.settings import Settings, get_settings

log = logging.getLogger(__name__)
# The SDK logs requests at INFO; keep message parameters (numbers) out of our logs.
logging.getLogger("twilio").setLevel(logging.WARNING)

NAME = "twilio"  # our webhooks live under /webhooks/twilio/
TWILIO_API_HOST = "api.twilio.com"
RATE_LIMITED_CODE = 20429
T = TypeVar("T")


class AlueturvaHttpClient(AsyncTwilioHttpClient):
    """The SDK's aiohttp client with a time-out that holds, sending to ``base_url`` instead of
    https://api.twilio.com when one is configured (tests and benchmarks)."""

    def __init__(self, *, timeout: float, base_url: str | None, connections: int) -> None:
        super().__init__(pool_connections=False)
        self._timeout_seconds = timeout
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections), timeout=aiohttp.ClientTimeout(total=timeout)
        )
        parts = urlsplit(base_url) if base_url else None
        self._target = (parts.scheme, parts.netloc, parts.path.rstrip("/")) if parts else None

    async def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        if self._target is not None and parts.hostname == TWILIO_API_HOST:
            scheme, netloc, prefix = self._target
            url = urlunsplit((scheme, netloc, prefix + parts.path, parts.query, ""))
        kwargs["timeout"] = kwargs.get("timeout") or self._timeout_seconds
        return await super().request(method, url, *args, **kwargs)


def open_client(settings: Settings, *, connections: int) -> tuple[Client, AlueturvaHttpClient]:
    """One SDK client with one aiohttp connection pool; make it inside the event loop that uses it."""
    assert settings.twilio_account_sid and settings.twilio_auth_token
    http = AlueturvaHttpClient(
        timeout=settings.twilio_timeout_seconds, base_url=settings.twilio_base_url, connections=connections
    )
    return Client(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(), http_client=http), http


def _is_transient(status: int, code: int | None) -> bool:
    return status == 429 or code == RATE_LIMITED_CODE or status >= 500 or status in (0, 408)


async def in_our_terms(request: Callable[[], Awaitable[T]], *, reference: str) -> T:
    """Run one SDK request; its failure becomes a ``TransientSendError`` (worth trying again: rate limited, server
    error, time-out, connection) or a ``PermanentSendError`` with Twilio's code and message."""
    try:
        return await request()
    except TwilioRestException as exc:
        code = str(exc.code or exc.status)
        log.info("twilio refused", extra={"reference": reference, "status": exc.status, "code": code})
        error = TransientSendError if _is_transient(int(exc.status or 0), exc.code) else PermanentSendError
        raise error(code, (exc.msg or "")[:400]) from exc
    except TimeoutError as exc:
        raise TransientSendError("timeout", "the provider did not answer in time") from exc
    except aiohttp.ClientError as exc:
        raise TransientSendError("connection", f"could not reach the provider ({type(exc).__name__})") from exc


def webhook_url(settings: Settings, path: str, delivery_id: int) -> str:
    """Our webhook at ``/webhooks/twilio/{path}`` for one delivery, as Twilio will call (and sign) it."""
    return f"{settings.public_base_url.rstrip('/')}/webhooks/{NAME}/{path}?delivery={delivery_id}"


def verify_signature(*, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> None:
    """Twilio signed these parameters posted to ``url`` with our auth token; without a token nothing is Twilio's."""
    token = get_settings().twilio_auth_token
    auth_token = token.get_secret_value() if token else ""
    signature = headers.get("X-Twilio-Signature", "")
    if not auth_token or not signature or not RequestValidator(auth_token).validate(url, dict(params), signature):
        raise WebhookRefused(403, "missing or invalid X-Twilio-Signature")


def delivery_id(raw: str | None) -> int | None:
    """Our own ``delivery`` parameter of a webhook URL (``webhook_url``)."""
    if raw is None:
        return None
    number = ascii_int(raw)
    if number is None:
        raise WebhookRefused(400, "'delivery' must be a delivery id")
    return number
