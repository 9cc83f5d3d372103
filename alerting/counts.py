"""Counting an alert's recipients by what happened to them, added up in the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from alerting.models import RECEIPT_CHANNELS, Alert, Delivery, DeliveryKind, DeliveryState, Recipient
from alueturva.db import id_in
from contacts.models import Organisation, Person

# Reached the provider and not reported undelivered: the same meaning as the drills' figures (drills.measures).
SENT_STATES = (DeliveryState.sent.value, DeliveryState.delivered.value)
OPEN_STATES = (DeliveryState.queued.value, DeliveryState.sending.value)


def _per_recipient(alert_id: int) -> Subquery:
    """Per recipient: organisation, acknowledged, how many alert messages were sent, delivered, still open."""
    delivery = Delivery.__table__
    counted = delivery.c.kind != DeliveryKind.cancel.value
    return (
        select(
            Recipient.organisation_id,
            Recipient.acknowledged_at.is_not(None).label("acknowledged"),
            func.count(delivery.c.id).filter(counted, delivery.c.state.in_(SENT_STATES)).label("sent"),
            func.count(delivery.c.id)
            .filter(counted, delivery.c.state == DeliveryState.delivered.value)
            .label("delivered"),
            func.count(delivery.c.id)
            .filter(counted, delivery.c.state.in_(SENT_STATES), delivery.c.channel.in_(RECEIPT_CHANNELS))
            .label("receipt_sent"),
            func.count(delivery.c.id).filter(counted, delivery.c.state.in_(OPEN_STATES)).label("open"),
        )
        .select_from(Recipient)
        .join(delivery, delivery.c.recipient_id == Recipient.id, isouter=True)
        .where(Recipient.alert_id == alert_id)
        .group_by(Recipient.id, Recipient.organisation_id, Recipient.acknowledged_at)
        .subquery()
    )


COUNT_KEYS = ("targeted", "sent", "delivered", "no_receipt", "failed", "acknowledged")


def alert_counts(session: Session, *, alert_id: int) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Recipient counts for the whole alert and per organisation, added up in the database (one row per
    organisation comes back, however many recipients there are: ``alert watch`` asks every second).

    ``sent``: a message reached the provider and was not reported undelivered; ``delivered``: the provider
    confirmed at least one message;
    ``no_receipt``: sent only through channels that give no delivery receipt (email), so neither delivered nor
    not; ``failed``: nothing could be sent, or everything sent was reported undelivered (no address on the chosen
    channels, every attempt failed, a number that does not take messages).
    """
    recipient = _per_recipient(alert_id)
    rows = session.execute(
        select(
            recipient.c.organisation_id,
            func.count().label("targeted"),
            func.count().filter(recipient.c.sent > 0).label("sent"),
            func.count().filter(recipient.c.delivered > 0).label("delivered"),
            func.count()
            .filter(recipient.c.sent > 0, recipient.c.delivered == 0, recipient.c.receipt_sent == 0)
            .label("no_receipt"),
            func.count().filter(recipient.c.sent == 0, recipient.c.open == 0).label("failed"),
            func.count().filter(recipient.c.acknowledged).label("acknowledged"),
        ).group_by(recipient.c.organisation_id)
    ).all()
    per_org = {row.organisation_id: {key: int(getattr(row, key)) for key in COUNT_KEYS} for row in rows}
    for organisation_id, pending in _still_to_add(session, alert_id=alert_id).items():
        per_org.setdefault(organisation_id, dict.fromkeys(COUNT_KEYS, 0))["targeted"] += pending
    total = {key: sum(counts[key] for counts in per_org.values()) for key in COUNT_KEYS}
    names = dict(
        session.execute(select(Organisation.id, Organisation.short_name).where(Organisation.id.in_(per_org))).all()
    )
    by_org = [
        {"organisation_id": org_id, "organisation": names.get(org_id, str(org_id)), **counts}
        for org_id, counts in sorted(per_org.items(), key=lambda item: names.get(item[0], ""))
    ]
    return total, by_org


def _still_to_add(session: Session, *, alert_id: int) -> dict[int, int]:
    """Per organisation, the people a large alert targets who are not recipients yet (``alerting.audience`` adds
    them in chunks in the first moments): they count as targeted from the start."""
    audience = session.execute(
        select(Alert.audience, Alert.audience_done).where(Alert.id == alert_id, Alert.audience.is_not(None))
    ).first()
    if audience is None or not audience.audience:
        return {}
    pending = audience.audience[audience.audience_done :]
    already = select(Recipient.person_id).where(Recipient.alert_id == alert_id)
    rows = session.execute(
        select(Person.organisation_id, func.count(Person.id))
        .where(id_in(session, Person.id, pending), Person.id.not_in(already))
        .group_by(Person.organisation_id)
    ).all()
    return {organisation_id: int(count) for organisation_id, count in rows}


def delivery_state_counts(session: Session, *, alert_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Delivery.state, func.count(Delivery.id)).where(Delivery.alert_id == alert_id).group_by(Delivery.state)
    ).all()
    return {str(state.value if hasattr(state, "value") else state): count for state, count in rows}


def poll_answers(session: Session, *, alert_id: int) -> dict[int, int]:
    """How many recipients chose each response option so far (1-based option -> count)."""
    rows = session.execute(
        select(Recipient.response, func.count(Recipient.id))
        .where(Recipient.alert_id == alert_id, Recipient.response.is_not(None))
        .group_by(Recipient.response)
    ).all()
    return {int(row[0]): int(row[1]) for row in rows if row[0] is not None}
