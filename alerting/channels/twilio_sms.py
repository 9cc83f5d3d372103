"""Twilio SMS: sending through the ``twilio`` SDK (its asyncio client), and what Twilio posts back: status
callbacks and inbound SMS, signed with ``X-Twilio-Signature``, answered with TwiML."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from alerting.channels.base import InboundSms, StatusReport, WebhookRefused
from alerting.channels.twilio_client import NAME, delivery_id, in_our_terms, open_client, verify_signature, webhook_url
from alerting.models import DeliveryState
from alueturva.settings import Settings

TWIML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

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


class TwilioSmsSender:
    """One SDK client with one aiohttp connection pool; make it inside the event loop that uses it."""

    def __init__(self, settings: Settings, *, connections: int) -> None:
        self._settings = settings
        self._client, self._http = open_client(settings, connections=connections)
        self._sender: dict[str, str] = (
            {"messaging_service_sid": settings.twilio_messaging_service_sid}
            if settings.twilio_messaging_service_sid
            else {"from_": settings.twilio_from or ""}
        )

    async def send_sms(self, *, to: str, body: str, delivery_id: int) -> str:
        options: dict[str, Any] = {
            **self._sender,
            "status_callback": webhook_url(self._settings, "status", delivery_id),
        }
        message = await in_our_terms(
            lambda: self._client.messages.create_async(to=to, body=body, **options), reference=f"delivery:{delivery_id}"
        )
        return str(message.sid)

    async def close(self) -> None:
        await self._http.close()


class TwilioWebhooks:
    """Status callbacks and inbound SMS as Twilio posts them. Without an auth token nothing is Twilio's."""

    name = NAME

    def verify(self, *, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> None:
        verify_signature(url=url, params=params, headers=headers)

    def status_report(self, params: Mapping[str, str], *, query: Mapping[str, str]) -> StatusReport | None:
        message_sid, message_status = params.get("MessageSid", ""), params.get("MessageStatus", "")
        if not message_sid or not message_status:
            raise WebhookRefused(400, "MessageSid and MessageStatus are required")
        state = TWILIO_STATUSES.get(message_status.strip().lower())
        if state is None:
            return None
        return StatusReport(
            provider_id=message_sid,
            delivery_id=delivery_id(query.get("delivery")),
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
        """TwiML: the text as one ``<Message>``, or an empty ``<Response />``; written directly, character for
        character what the SDK's ``MessagingResponse`` writes (its element tree costs more than the rest of an
        acknowledgement's answer)."""
        if not text:
            return f"{TWIML_DECLARATION}<Response />", "application/xml"
        return f"{TWIML_DECLARATION}<Response><Message>{escape(text)}</Message></Response>", "application/xml"
