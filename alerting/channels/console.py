"""Console backends (the embedded default): nothing leaves the machine. Each message, and what each call says, is
kept in the demo outbox (``alerting.demo_outbox``: the text, to whom, when) for the operator to read; the log says only
that a message went out, by id, never its number, address or text.

An SMS sent here gets its delivery receipt a moment later (``alerting.console_receipts``), as a provider's status
callback would give it; email, as SMTP, gives none. A call rings until ``alueturva call answer`` (or ``call
unanswered``) says what the phone did: its outcome is only what the phone reports, as with Twilio.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from email.message import EmailMessage

from alerting import demo_outbox
from alerting.channels.base import CallScript
from alerting.models import Channel

log = logging.getLogger("alerting.console")


PROVIDER_PREFIX = demo_outbox.PROVIDER_PREFIX


class ConsoleSmsSender:
    async def send_sms(self, *, to: str, body: str, delivery_id: int) -> str:
        provider_id = f"{PROVIDER_PREFIX}{uuid.uuid4().hex}"
        reference = f"delivery:{delivery_id}"
        outbox_id = await asyncio.to_thread(
            demo_outbox.keep, channel=Channel.sms, to=to, body=body, reference=reference
        )
        log.info(
            "sms sent (console)",
            extra={"reference": reference, "provider_id": provider_id, "outbox_id": outbox_id, "chars": len(body)},
        )
        return provider_id

    async def close(self) -> None:
        return None


class ConsoleVoiceCaller:
    """Keeps what the call will say in the outbox; nothing rings. ``alueturva call answer`` then answers it as a
    phone would, through the same path as the provider's webhooks."""

    async def place_call(self, *, to: str, delivery_id: int, script: CallScript) -> str:
        call_id = f"console-{uuid.uuid4().hex}"
        reference = f"delivery:{delivery_id}"
        text = script.spoken()
        outbox_id = await asyncio.to_thread(
            demo_outbox.keep, channel=Channel.voice, to=to, body=text, reference=reference
        )
        log.info(
            "call placed (console)", extra={"reference": reference, "provider_id": call_id, "outbox_id": outbox_id}
        )
        return call_id

    async def cancel_call(self, *, call_id: str) -> None:
        log.info("call cancelled (console)", extra={"provider_id": call_id})

    async def close(self) -> None:
        return None


class ConsoleEmailSender:
    def send_email(self, *, message: EmailMessage, reference: str) -> str:
        message_id = str(message["Message-ID"])
        outbox_id = demo_outbox.keep_email(message, reference=reference)
        log.info(
            "email sent (console)", extra={"reference": reference, "message_id": message_id, "outbox_id": outbox_id}
        )
        return message_id
