"""What the SMS the provider accepted cost, in segments: counted from the same texts the sender renders."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerting.messages import render_sms
from alerting.models import Alert, Channel, Delivery, DeliveryState, Recipient
from alerting.outgoing import content_of
from alerting.segments import count_segments

# The provider charges what it took on, whether or not the handset got it.
CHARGED = (DeliveryState.sent, DeliveryState.delivered, DeliveryState.undelivered)


def sms_segments(session: Session, *, start: datetime, end: datetime) -> dict[str, int]:
    """SMS segments charged for alerts created in [start, end): ``{"exercise": n, "real": m}``."""
    groups = session.execute(
        select(Delivery.alert_id, Recipient.language, Delivery.kind, func.count())
        .join(Recipient, Recipient.id == Delivery.recipient_id)
        .join(Alert, Alert.id == Delivery.alert_id)
        .where(
            Delivery.channel == Channel.sms,
            Delivery.state.in_(CHARGED),
            Alert.created_at >= start,
            Alert.created_at < end,
        )
        .group_by(Delivery.alert_id, Recipient.language, Delivery.kind)
    ).all()
    alerts = {alert.id: alert for alert in session.scalars(select(Alert).where(Alert.id.in_({g[0] for g in groups})))}
    segments: Counter[str] = Counter({"exercise": 0, "real": 0})
    for alert_id, language, kind, count in groups:
        alert = alerts[alert_id]
        text = render_sms(content_of(alert), kind=kind.value, language=language)
        segments["exercise" if alert.exercise else "real"] += count_segments(text).segments * count
    return dict(segments)
