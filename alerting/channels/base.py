"""The channel protocol: core code sends and hears back through these and never touches a vendor SDK itself.

A second SMS provider implements ``SmsSender`` for sending and ``SmsWebhooks`` for what it posts back (delivery
reports and replies); a voice provider implements ``VoiceCaller`` (placing and cancelling calls) and
``VoiceWebhooks`` (what it asks and reports during a call, and its script format). ``alerting.channels`` chooses
the implementations from the settings.
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


@dataclass(frozen=True)
class Say:
    """A passage spoken in one language (``fi``, ``sv``, ``en``: the provider chooses the voice)."""

    language: str
    text: str


@dataclass(frozen=True)
class Listen:
    """Passages spoken while one key press is awaited; a key goes to the call's gather webhook, and without one the
    call goes on to the next step."""

    says: tuple[Say, ...]


@dataclass(frozen=True)
class CallScript:
    """What a call says, in order, whatever the provider; the call hangs up after the last step."""

    steps: tuple[Say | Listen, ...]

    def spoken(self) -> str:
        """The script as a person would read it: one passage a line, each key prompt's passages as they are said."""
        lines: list[str] = []
        for step in self.steps:
            lines.extend(say.text for say in (step.says if isinstance(step, Listen) else (step,)))
        return "\n".join(lines)


class VoiceCaller(Protocol):
    """Places calls from an asyncio event loop. A call's script is fetched by the provider when the call is answered
    (``VoiceWebhooks``); ``script`` is what the call will say, for a backend that does not call back (the demo)."""

    async def place_call(self, *, to: str, delivery_id: int, script: CallScript) -> str:
        """Start one call and return the provider's call id; the provider reports its progress with ``delivery_id``."""
        ...

    async def cancel_call(self, *, call_id: str) -> None:
        """Stop a call that has not been answered yet (queued or ringing); one already answered goes on."""
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


@dataclass(frozen=True)
class CallEvent:
    """What a voice provider says about one call: it was answered (``state`` delivered, or a machine answered), a key
    was pressed (``digits``), or its progress (``status`` in the provider's words, ``state`` in ours; None: no
    change). ``duration_seconds`` once it ended."""

    call_id: str
    delivery_id: int
    status: str
    state: DeliveryState | None
    answered_by: str | None = None
    machine: bool = False  # an answering machine or a fax answered: nobody was reached
    duration_seconds: int | None = None
    error_code: str | None = None
    digits: str | None = None


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


class VoiceWebhooks(Protocol):
    """What a voice provider posts during a call: ``/webhooks/{name}/voice`` (the call was answered: the script is
    asked for), ``/webhooks/{name}/voice/gather`` (a key was pressed) and ``/webhooks/{name}/voice/status``."""

    name: str

    def verify(self, *, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> None:
        """Raise ``WebhookRefused`` unless the provider sent this request to ``url`` (our public address)."""

    def call_event(self, params: Mapping[str, str], *, query: Mapping[str, str]) -> CallEvent:
        """The call and what happened to it."""

    def render(self, script: CallScript, *, gather_url: str) -> tuple[str, str]:
        """The provider's answer that runs ``script`` (key presses posted to ``gather_url``): body and media type."""
