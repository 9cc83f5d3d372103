"""Twilio: sending SMS through the ``twilio`` SDK (its asyncio client), validating webhook signatures, TwiML."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from alerting.channels.base import PermanentSendError, TransientSendError
from alueturva.settings import Settings

log = logging.getLogger(__name__)
# The SDK logs requests at INFO; keep message parameters (numbers) out of our logs.
logging.getLogger("twilio").setLevel(logging.WARNING)

TWILIO_API_HOST = "api.twilio.com"
RATE_LIMITED_CODE = 20429


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


def _is_transient(status: int, code: int | None) -> bool:
    return status == 429 or code == RATE_LIMITED_CODE or status >= 500 or status in (0, 408)


class TwilioSmsSender:
    """One SDK client with one aiohttp connection pool; make it inside the event loop that uses it."""

    def __init__(self, settings: Settings, *, connections: int) -> None:
        assert settings.twilio_account_sid and settings.twilio_auth_token
        self._http = AlueturvaHttpClient(
            timeout=settings.twilio_timeout_seconds, base_url=settings.twilio_base_url, connections=connections
        )
        self._client = Client(
            settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(), http_client=self._http
        )
        self._sender: dict[str, str] = (
            {"messaging_service_sid": settings.twilio_messaging_service_sid}
            if settings.twilio_messaging_service_sid
            else {"from_": settings.twilio_from or ""}
        )

    async def send_sms(self, *, to: str, body: str, status_callback: str | None, reference: str) -> str:
        options: dict[str, Any] = dict(self._sender)
        if status_callback:
            options["status_callback"] = status_callback
        try:
            message = await self._client.messages.create_async(to=to, body=body, **options)
        except TwilioRestException as exc:
            code = str(exc.code or exc.status)
            log.info("twilio refused", extra={"reference": reference, "status": exc.status, "code": code})
            error = TransientSendError if _is_transient(int(exc.status or 0), exc.code) else PermanentSendError
            raise error(code, (exc.msg or "")[:400]) from exc
        except TimeoutError as exc:
            raise TransientSendError("timeout", "the provider did not answer in time") from exc
        except aiohttp.ClientError as exc:
            raise TransientSendError("connection", f"could not reach the provider ({type(exc).__name__})") from exc
        return str(message.sid)

    async def close(self) -> None:
        await self._http.close()


def signature_is_valid(*, auth_token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    return RequestValidator(auth_token).validate(url, dict(params), signature)


def twiml_reply(text: str | None) -> str:
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)
