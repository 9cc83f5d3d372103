"""What the SMS the provider accepted cost, in segments: counted from the same texts the sender renders."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerting.messages import alert_content, render_sms
from alerting.models import Alert, Channel, Delivery, DeliveryState, Recipient
from alerting.segments import count_segments
from alueturva.localized import versions_for
from contacts.models import Organisation

# The provider charges what it took on, whether or not the handset got it.
CHARGED = (DeliveryState.sent, DeliveryState.delivered, DeliveryState.undelivered)


def charged_sms_segments(session: Session, *, start: datetime, end: datetime) -> dict[str, int]:
    """SMS segments charged for alerts created in [start, end): ``{"exercise": n, "real": m}``. Deliveries are
    counted in the database per alert, kind and reader (language and organisation, which decide the version); each
    group's text is rendered once."""
    groups = session.execute(
        select(Delivery.alert_id, Delivery.kind, Recipient.language, Recipient.organisation_id, func.count())
        .join(Recipient, Recipient.id == Delivery.recipient_id)
        .join(Alert, Alert.id == Delivery.alert_id)
        .where(
            Delivery.channel == Channel.sms,
            Delivery.state.in_(CHARGED),
            Alert.created_at >= start,
            Alert.created_at < end,
        )
        .group_by(Delivery.alert_id, Delivery.kind, Recipient.language, Recipient.organisation_id)
    ).all()
    official = dict(session.execute(select(Organisation.id, Organisation.languages)).all())
    alerts = {alert.id: alert for alert in session.scalars(select(Alert).where(Alert.id.in_({g[0] for g in groups})))}
    contents = {alert_id: alert_content(alert) for alert_id, alert in alerts.items()}
    segments: Counter[str] = Counter({"exercise": 0, "real": 0})
    for alert_id, kind, language, organisation_id, count in groups:
        content = contents[alert_id]
        version = versions_for(
            content.languages, reader=language, organisation_languages=official[organisation_id] or []
        )
        text = render_sms(content, kind=kind.value, version=version)
        segments["exercise" if alerts[alert_id].exercise else "real"] += count_segments(text).segments * count
    return dict(segments)
