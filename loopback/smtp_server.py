"""A real SMTP server (aiosmtpd) on a free loopback port, recording what it receives."""

from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

from loopback.ports import free_port

_REPLY_TEXT = {
    421: "Service not available, closing transmission channel",
    450: "Mailbox unavailable, try again later",
    451: "Local error in processing, try again later",
    452: "Insufficient system storage",
    550: "Mailbox unavailable",
    551: "User not local",
    552: "Exceeded storage allocation",
    553: "Mailbox name not allowed",
    554: "Transaction failed",
}


@dataclass
class Envelope:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class _Handler:
    server: SmtpServer
    rcpt_attempts: int = 0
    data_attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _refusal(self) -> str | None:
        code = self.server.reply_code
        if code is None:
            return None
        return f"{code} {_REPLY_TEXT.get(code, 'Refused by the test server')}"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        with self.lock:
            self.rcpt_attempts += 1
        refusal = self._refusal()
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.data_attempts += 1
        refusal = self._refusal()
        if refusal is not None:
            return refusal
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.server.record(Envelope(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1. ``reply_code`` (e.g. 451 or 550) refuses every RCPT and DATA with that code.

    ``stop()`` closes the port, so connections are refused ("the mail server is down"); ``start()`` opens it
    again on the same port.
    """

    def __init__(self, *, port: int | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Envelope] = []
        self.reply_code: int | None = None
        self._handler = _Handler(self)
        self._controller: Controller | None = None
        self._lock = threading.Lock()

    @property
    def rcpt_attempts(self) -> int:
        """Every RCPT TO received, accepted or refused (counts delivery attempts)."""
        return self._handler.rcpt_attempts

    @property
    def running(self) -> bool:
        return self._controller is not None

    def record(self, envelope: Envelope) -> None:
        with self._lock:
            self.envelopes.append(envelope)
            self.messages.append(envelope.message)

    def start(self) -> SmtpServer:
        if self._controller is None:
            controller = Controller(self._handler, hostname=self.host, port=self.port, ready_timeout=10)
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
