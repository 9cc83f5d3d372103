"""The channel protocol: core code sends through these and never touches a vendor SDK itself."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol


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

    async def send_sms(self, *, to: str, body: str, status_callback: str | None, reference: str) -> str:
        """Hand one SMS to the provider and return the provider's message id. ``reference`` is for logs."""
        ...

    async def close(self) -> None: ...


class EmailSender(Protocol):
    """Blocking; the dispatcher calls it from a thread."""

    def send_email(self, *, message: EmailMessage, reference: str) -> str:
        """Hand one email to the mail server and return its Message-ID. ``reference`` is for logs."""
        ...
