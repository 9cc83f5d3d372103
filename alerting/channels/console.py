"""Console backends (the embedded default): nothing leaves the machine. Each message is kept in the demo outbox
(``alerting.outbox``: the text, to whom, when) for the operator to read; the log says only that a message went out,
by id, never its number, address or text.

An SMS gets a delivery receipt as a provider's would: once it has been sent for ``ALUETURVA_CONSOLE_RECEIPT_SECONDS``,
the scheduler's ``deliver_due_receipts`` reports it delivered through the same path a Twilio status callback takes
once its signature holds (``alerting.inbound.apply_status_report``: only news moves a delivery, in order). The receipts
are found in the database, so that a message sent from any process (the service, `alueturva alert send`) gets its
receipt, and none is lost with a process. Email, as SMTP, gives no receipt.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select

from alerting import outbox
from alerting.channels.base import StatusReport
from alerting.models import Channel, Delivery, DeliveryState
from alueturva.db import get_database, utcnow
from alueturva.settings import get_settings

log = logging.getLogger("alerting.console")


PROVIDER_PREFIX = "console-"
RECEIPTS_PER_ROUND = 1000


def deliver_due_receipts(now: datetime | None = None) -> int:
    """The scheduler's task with the console SMS backend: each console SMS sent long enough ago and not yet
    confirmed gets its delivery receipt, applied as a provider's status callback is. Returns how many."""
    from alerting.inbound import apply_status_report

    now = now or utcnow()
    due = now - timedelta(seconds=get_settings().console_receipt_seconds)
    with get_database().session() as session:
        rows = session.execute(
            select(Delivery.id, Delivery.provider_id)
            .where(
                Delivery.channel == Channel.sms,
                Delivery.state == DeliveryState.sent,
                Delivery.provider_id.like(f"{PROVIDER_PREFIX}%"),
                Delivery.sent_at <= due,
            )
            .order_by(Delivery.id)
            .limit(RECEIPTS_PER_ROUND)
        ).all()
    delivered = 0
    for delivery_id, provider_id in rows:
        report = StatusReport(str(provider_id), delivery_id, DeliveryState.delivered, "delivered", None)
        delivered += apply_status_report(report=report, now=now)
    return delivered


class ConsoleSmsSender:
    async def send_sms(self, *, to: str, body: str, delivery_id: int) -> str:
        provider_id = f"{PROVIDER_PREFIX}{uuid.uuid4().hex}"
        reference = f"delivery:{delivery_id}"
        outbox_id = await asyncio.to_thread(outbox.keep, channel=Channel.sms, to=to, body=body, reference=reference)
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
