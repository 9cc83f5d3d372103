"""Twilio: sending SMS through the ``twilio`` SDK (its asyncio client), and what Twilio posts back: status
callbacks and inbound SMS, signed with ``X-Twilio-Signature``, answered with TwiML."""

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

from alerting.channels.base import InboundSms, PermanentSendError, StatusReport, TransientSendError, WebhookRefused
from alerting.models import DeliveryState
from alueturva.settings import Settings, get_settings

log = logging.getLogger(__name__)
# The SDK logs requests at INFO; keep message parameters (numbers) out of our logs.
logging.getLogger("twilio").setLevel(logging.WARNING)

NAME = "twilio"  # our webhooks: /webhooks/twilio/status and /webhooks/twilio/sms
TWILIO_API_HOST = "api.twilio.com"
RATE_LIMITED_CODE = 20429

# Twilio's message statuses mapped onto ours; statuses not listed (receiving, received, ...) change nothing.
TWILIO_STATUSES = {
    "accepted": DeliveryState.queued,
    "scheduled": DeliveryState.queued,
    "queued": DeliveryState.queued,
    "sending": DeliveryState.sending,
    "sent": DeliveryState.sent,
    "delivered": DeliveryState.delivered,
    "read": DeliveryState.delivered,
    "undelivered": DeliveryState.undelivered,
    "failed": DeliveryState.failed,
    "canceled": DeliveryState.failed,
}


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
        self._callback_base = f"{settings.public_base_url.rstrip('/')}/webhooks/{NAME}/status"

    async def send_sms(self, *, to: str, body: str, delivery_id: int) -> str:
        reference = f"delivery:{delivery_id}"
        options: dict[str, Any] = {**self._sender, "status_callback": f"{self._callback_base}?delivery={delivery_id}"}
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


class TwilioWebhooks:
    """Status callbacks and inbound SMS as Twilio posts them. Without an auth token nothing is Twilio's."""

    name = NAME

    def verify(self, *, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> None:
        token = get_settings().twilio_auth_token
        auth_token = token.get_secret_value() if token else ""
        signature = headers.get("X-Twilio-Signature", "")
        if not auth_token or not signature or not RequestValidator(auth_token).validate(url, dict(params), signature):
            raise WebhookRefused(403, "missing or invalid X-Twilio-Signature")

    def status_report(self, params: Mapping[str, str], *, query: Mapping[str, str]) -> StatusReport | None:
        message_sid, message_status = params.get("MessageSid", ""), params.get("MessageStatus", "")
        if not message_sid or not message_status:
            raise WebhookRefused(400, "MessageSid and MessageStatus are required")
        state = TWILIO_STATUSES.get(message_status.strip().lower())
        if state is None:
            return None
        return StatusReport(
            provider_id=message_sid,
            delivery_id=_delivery_id(query.get("delivery")),
            state=state,
            provider_status=message_status,
            error_code=params.get("ErrorCode") or None,
        )

    def inbound_sms(self, params: Mapping[str, str]) -> InboundSms:
        message_sid = params.get("MessageSid", "")
        if not message_sid:
            raise WebhookRefused(400, "MessageSid is required")
        return InboundSms(provider_id=message_sid, sender=params.get("From", ""), body=params.get("Body", ""))

    def reply(self, text: str | None) -> tuple[str, str]:
        response = MessagingResponse()
        if text:
            response.message(text)
        return str(response), "application/xml"


def _delivery_id(raw: str | None) -> int | None:
    """Our own ``delivery`` parameter of the status callback URL (see ``TwilioSmsSender.send_sms``)."""
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise WebhookRefused(400, "'delivery' must be a delivery id")
    return int(raw)
