"""Console backends (the embedded default): they log that a message went out, by id only, never its content."""

from __future__ import annotations

import logging
import uuid
from email.message import EmailMessage

log = logging.getLogger("alerting.console")


class ConsoleSmsSender:
    async def send_sms(self, *, to: str, body: str, delivery_id: int) -> str:
        provider_id = f"console-{uuid.uuid4().hex}"
        log.info(
            "sms sent (console)",
            extra={"reference": f"delivery:{delivery_id}", "provider_id": provider_id, "chars": len(body)},
        )
        return provider_id

    async def close(self) -> None:
        return None


class ConsoleEmailSender:
    def send_email(self, *, message: EmailMessage, reference: str) -> str:
        message_id = str(message["Message-ID"])
        log.info("email sent (console)", extra={"reference": reference, "message_id": message_id})
        return message_id
