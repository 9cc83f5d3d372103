"""The console SMS backend's delivery receipts (the embedded default), as a provider would give them: once a message
has been sent for ``ALUETURVA_CONSOLE_RECEIPT_SECONDS``, the scheduler's ``deliver_due_receipts`` reports it delivered
through the same path a Twilio status callback takes once its signature holds (``alerting.inbound.
apply_status_report``: only news moves a delivery, in order). The receipts are found in the database, so that a
message sent from any process (the service, `alueturva alert send`) gets its receipt, and none is lost with a
process. Email, as SMTP, gives none."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from alerting.channels.base import StatusReport
from alerting.demo_outbox import PROVIDER_PREFIX
from alerting.inbound import apply_status_report
from alerting.models import Channel, Delivery, DeliveryState
from alueturva.db import get_database, utcnow
from alueturva.settings import get_settings

RECEIPTS_PER_ROUND = 1000


def deliver_due_receipts(now: datetime | None = None) -> int:
    """The scheduler's task with the console SMS backend: each console SMS sent long enough ago and not yet
    confirmed gets its delivery receipt, applied as a provider's status callback is. Returns how many."""
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
