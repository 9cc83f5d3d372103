"""Console backends (the embedded default): nothing leaves the machine. Each message is kept in the demo outbox
(``alerting.outbox``: the text, to whom, when) for the operator to read; the log says only that a message went out,
by id, never its number, address or text.

An SMS gets a delivery receipt as a provider's would: ``ALUETURVA_CONSOLE_RECEIPT_SECONDS`` after sending, a queued
job reports it delivered through the same path a Twilio status callback takes once its signature holds
(``alerting.inbound.apply_status_report``: only news moves a delivery, in order). Email, as SMTP, gives no receipt.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from email.message import EmailMessage

from alerting import outbox
from alerting.channels.base import StatusReport
from alerting.models import Channel, DeliveryState
from alueturva.queue import get_queue
from alueturva.settings import get_settings

log = logging.getLogger("alerting.console")


def deliver_receipt(provider_id: str, delivery_id: int) -> bool:
    """The queue job of a console SMS's delivery receipt: a status report, applied as a provider's callback is."""
    from alerting.inbound import apply_status_report

    report = StatusReport(provider_id, delivery_id, DeliveryState.delivered, "delivered", None)
    return apply_status_report(report=report)


def _keep_and_promise_receipt(*, to: str, body: str, delivery_id: int, provider_id: str) -> int:
    outbox_id = outbox.keep(channel=Channel.sms, to=to, body=body, reference=f"delivery:{delivery_id}")
    delay = timedelta(seconds=get_settings().console_receipt_seconds)
    get_queue().enqueue(deliver_receipt, provider_id, delivery_id, job_id=f"receipt-{provider_id}", delay=delay)
    return outbox_id


class ConsoleSmsSender:
    async def send_sms(self, *, to: str, body: str, delivery_id: int) -> str:
        provider_id = f"console-{uuid.uuid4().hex}"
        reference = f"delivery:{delivery_id}"
        outbox_id = await asyncio.to_thread(
            _keep_and_promise_receipt, to=to, body=body, delivery_id=delivery_id, provider_id=provider_id
        )
        log.info(
            "sms sent (console)",
            extra={"reference": reference, "provider_id": provider_id, "outbox_id": outbox_id, "chars": len(body)},
        )
        return provider_id

    async def close(self) -> None:
        return None


class ConsoleEmailSender:
    def send_email(self, *, message: EmailMessage, reference: str) -> str:
        message_id = str(message["Message-ID"])
        outbox_id = outbox.keep_email(message, reference=reference)
        log.info(
            "email sent (console)", extra={"reference": reference, "message_id": message_id, "outbox_id": outbox_id}
        )
        return message_id
