"""The channel protocol: core code sends and hears back through these and never touches a vendor SDK itself.

A second SMS provider (or a voice provider) implements ``SmsSender`` for sending and ``SmsWebhooks`` for what it
posts back (delivery reports and replies); ``alerting.channels`` chooses the implementations from the settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from alerting.models import DeliveryState


class SendError(Exception):
    """A provider refused or could not take a message. ``code`` and ``message`` are the provider's own."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class TransientSendError(SendError):
    """Worth trying again later (rate limited, provider error, time-out, connection refused, SMTP 4xx)."""


class PermanentSendError(SendError):
    """Trying again will not help (invalid number, other 4xx, SMTP 5xx)."""


class SmsSender(Protocol):
    """Sends from an asyncio event loop, so that one worker keeps many provider requests in flight cheaply."""

    async def send_sms(self, *, to: str, body: str, delivery_id: int) -> str:
        """Hand one SMS to the provider and return the provider's message id. The provider reports the delivery's
        progress back to its webhooks (``SmsWebhooks``) with ``delivery_id``; it also names the delivery in logs."""
        ...

    async def close(self) -> None: ...


class EmailSender(Protocol):
    """Blocking; the dispatcher calls it from a thread."""

    def send_email(self, *, message: EmailMessage, reference: str) -> str:
        """Hand one email to the mail server and return its Message-ID. ``reference`` is for logs."""
        ...


@dataclass(frozen=True)
class StatusReport:
    """A provider's news about one message it took: ``state`` in our terms, ``provider_status`` in its own."""

    provider_id: str
    delivery_id: int | None
    state: DeliveryState
    provider_status: str
    error_code: str | None


@dataclass(frozen=True)
class InboundSms:
    """An SMS a person sent to us (an acknowledgement, a poll answer or anything else)."""

    provider_id: str
    sender: str
    body: str


class WebhookRefused(Exception):
    """The request is not the provider's (403) or lacks what the provider always sends (400); nothing is recorded."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


class SmsWebhooks(Protocol):
    """What an SMS provider posts to ``/webhooks/{name}/status`` and ``/webhooks/{name}/sms``."""

    name: str

    def verify(self, *, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> None:
        """Raise ``WebhookRefused`` unless the provider sent this request to ``url`` (our public address)."""

    def status_report(self, params: Mapping[str, str], *, query: Mapping[str, str]) -> StatusReport | None:
        """The delivery report in a status callback; None for statuses that change nothing."""

    def inbound_sms(self, params: Mapping[str, str]) -> InboundSms:
        """The message in an inbound-SMS webhook."""

    def reply(self, text: str | None) -> tuple[str, str]:
        """The webhook answer that sends ``text`` back to the sender (none when empty): body and media type."""
