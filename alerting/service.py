"""Alerting data access: writing recipients and deliveries in bulk, reading alerts, recipients and events."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Integer, Table, func, insert, literal, select, union_all, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from alerting.models import (
    Alert,
    AlertEvent,
    AlertStatus,
    Channel,
    Delivery,
    DeliveryKind,
    DeliveryState,
    EscalationTimer,
    Recipient,
)
from alueturva.db import UTCDateTime, utcnow
from alueturva.errors import Conflict, NotFound
from contacts.models import Organisation, Person


@dataclass(frozen=True)
class Contact:
    """The parts of a person a message needs, read once when the alert is created."""

    person_id: int
    organisation_id: int
    language: str
    mobile: str | None
    email: str | None


def address_of(channel: Channel) -> InstrumentedAttribute[str | None]:
    """SMS and calls go to the mobile number, email to the email address."""
    return Person.email if channel is Channel.email else Person.mobile


def add_deliveries(
    session: Session,
    *,
    alert_id: int,
    recipients: ColumnElement[bool],
    channels: Sequence[Channel],
    kind: DeliveryKind,
    round_: int,
    now: datetime,
) -> list[int]:
    """One queued delivery per (recipient, channel) for the alert's recipients that match ``recipients`` and are
    still active with an address on that channel, written by ``INSERT ... SELECT``; the new delivery ids."""
    table = cast(Table, Delivery.__table__)
    per_channel = [
        select(
            literal(alert_id, Integer),
            Recipient.id,
            literal(channel, table.c.channel.type),
            literal(kind, table.c.kind.type),
            literal(round_, Integer),
            address_of(channel),
            literal(DeliveryState.queued, table.c.state.type),
            literal(0, Integer),
            literal(now, UTCDateTime()),
            literal(now, UTCDateTime()),
        )
        .join(Person, Person.id == Recipient.person_id)
        .where(
            Recipient.alert_id == alert_id,
            recipients,
            Person.active.is_(True),
            address_of(channel).is_not(None),
            address_of(channel) != "",
        )
        for channel in channels
    ]
    if not per_channel:
        return []
    rows = per_channel[0] if len(per_channel) == 1 else union_all(*per_channel)
    columns = ["alert_id", "recipient_id", "channel", "kind", "round", "address", "state", "attempts"]
    statement = insert(Delivery).from_select([*columns, "created_at", "enqueued_at"], rows).returning(Delivery.id)
    return sorted(session.scalars(statement))


def insert_recipients(
    session: Session, *, alert_id: int, contacts: Sequence[Contact], deputy_for: dict[int, int] | None = None
) -> dict[int, int]:
    """Add these people as recipients (deputies, with whom they stand in for); returns person id -> recipient id."""
    if not contacts:
        return {}
    now, deputy_for = utcnow(), deputy_for or {}
    rows = [
        {
            "alert_id": alert_id,
            "person_id": contact.person_id,
            "organisation_id": contact.organisation_id,
            "language": contact.language,
            "link_nonce": secrets.token_hex(16),
            "deputy_for_id": deputy_for.get(contact.person_id),
            "added_at": now,
            "ack_late": False,
        }
        for contact in contacts
    ]
    result = session.execute(
        insert(Recipient).returning(Recipient.id, Recipient.person_id, sort_by_parameter_order=True), rows
    )
    return {row.person_id: row.id for row in result}


def insert_deliveries(
    session: Session,
    *,
    alert_id: int,
    items: Sequence[tuple[int, Channel, str]],
    kind: DeliveryKind,
    round_: int,
) -> list[int]:
    """Queue a delivery to each (recipient id, channel, address) given (cancellation notices); their ids."""
    if not items:
        return []
    now = utcnow()
    rows = [
        {
            "alert_id": alert_id,
            "recipient_id": recipient_id,
            "channel": channel,
            "kind": kind,
            "round": round_,
            "address": address,
            "state": DeliveryState.queued,
            "attempts": 0,
            "created_at": now,
            "enqueued_at": now,
        }
        for recipient_id, channel, address in items
    ]
    return list(session.scalars(insert(Delivery).returning(Delivery.id, sort_by_parameter_order=True), rows))


def add_event(session: Session, *, alert_id: int, kind: str, details: dict[str, object]) -> None:
    session.add(AlertEvent(alert_id=alert_id, kind=kind, details=details, at=utcnow()))


SHORT_CODES = range(1000, 10_000)
_SHORT_CODE_LOCK = 7_014_001  # a PostgreSQL advisory lock key: one alert at a time chooses its code


def free_short_code(session: Session) -> str:
    """A four-digit code no open alert has, so that a reply "ok 4821" always means one alert.

    On PostgreSQL an advisory lock held until the transaction ends makes concurrent alerts choose one after another
    (SQLite's ``BEGIN IMMEDIATE`` already does)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_SHORT_CODE_LOCK)))
    used = set(session.scalars(select(Alert.short_code).where(Alert.status == AlertStatus.open)))
    if len(used) >= len(SHORT_CODES) and not {str(code) for code in SHORT_CODES} - used:
        raise Conflict("every short code is in use by an open alert; close or cancel an alert first")
    while (code := str(secrets.choice(SHORT_CODES))) in used:  # few are in use: a draw or two
        continue
    return code


def get_alert(session: Session, *, alert_id: int, for_update: bool = False) -> Alert:
    query = select(Alert).where(Alert.id == alert_id)
    if for_update:
        query = query.with_for_update()
    alert = session.scalars(query).first()
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    return alert


def find_by_idempotency_key(session: Session, *, key: str) -> Alert | None:
    return session.scalars(select(Alert).where(Alert.idempotency_key == key)).first()


def list_alerts(session: Session, *, limit: int, offset: int) -> tuple[Sequence[Alert], int]:
    total = session.scalar(select(func.count(Alert.id))) or 0
    rows = session.scalars(select(Alert).order_by(Alert.id.desc()).limit(limit).offset(offset)).all()
    return rows, total


def alert_events(session: Session, *, alert_id: int) -> Sequence[AlertEvent]:
    return session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)).all()


def list_recipients(
    session: Session, *, alert_id: int, limit: int = 1, offset: int = 0, recipient_id: int | None = None
) -> tuple[list[tuple[Recipient, str, list[Delivery]]], int]:
    """A page of an alert's recipients (or the one ``recipient_id``) with their names and deliveries."""
    conditions = [Recipient.alert_id == alert_id]
    if recipient_id is not None:
        conditions.append(Recipient.id == recipient_id)
    total = session.scalar(select(func.count(Recipient.id)).where(*conditions)) or 0
    rows = session.execute(
        select(Recipient, Person.name)
        .join(Person, Person.id == Recipient.person_id)
        .where(*conditions)
        .order_by(Recipient.id)
        .limit(limit)
        .offset(offset)
    ).all()
    ids = [recipient.id for recipient, _ in rows]
    deliveries: dict[int, list[Delivery]] = {}
    if ids:
        for delivery in session.scalars(select(Delivery).where(Delivery.recipient_id.in_(ids)).order_by(Delivery.id)):
            deliveries.setdefault(delivery.recipient_id, []).append(delivery)
    return [(recipient, name, deliveries.get(recipient.id, [])) for recipient, name in rows], total


def close_alert(session: Session, *, alert_id: int, now: datetime, reason: str) -> bool:
    """Close an open alert now: its escalation stops (remaining steps and unsent reminders); acknowledgements after
    this are kept and marked late. False if it was not open."""
    closed = session.execute(
        update(Alert)
        .where(Alert.id == alert_id, Alert.status == AlertStatus.open)
        .values(status=AlertStatus.closed, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(closed, "rowcount", 0):
        return False
    session.execute(
        update(EscalationTimer)
        .where(EscalationTimer.alert_id == alert_id, EscalationTimer.done_at.is_(None))
        .values(done_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Delivery)
        .where(
            Delivery.alert_id == alert_id,
            Delivery.kind == DeliveryKind.reminder,
            Delivery.state == DeliveryState.queued,
        )
        .values(state=DeliveryState.cancelled, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    add_event(session, alert_id=alert_id, kind="closed", details={"reason": reason})
    return True


def get_recipient(session: Session, *, alert_id: int, recipient_id: int) -> Recipient:
    recipient = session.get(Recipient, recipient_id)
    if recipient is None or recipient.alert_id != alert_id:
        raise NotFound(f"recipient {recipient_id} of alert {alert_id} not found")
    return recipient


@dataclass(frozen=True)
class SilentRecipient:
    """Someone who has not acknowledged yet, with what an operator needs to phone them."""

    recipient_id: int
    person_id: int
    name: str
    organisation: str
    mobile: str | None
    email: str | None
    deputy_for_id: int | None


def silent_recipients(session: Session, *, alert_id: int, limit: int) -> tuple[list[SilentRecipient], int]:
    """The alert's recipients who have not acknowledged (by organisation and name; at most ``limit``), and how many
    there are in all."""
    silent = (Recipient.alert_id == alert_id, Recipient.acknowledged_at.is_(None))
    total = session.scalar(select(func.count(Recipient.id)).where(*silent)) or 0
    rows = session.execute(
        select(
            Recipient.id,
            Person.id,
            Person.name,
            Organisation.short_name,
            Person.mobile,
            Person.email,
            Recipient.deputy_for_id,
        )
        .join(Person, Person.id == Recipient.person_id)
        .join(Organisation, Organisation.id == Recipient.organisation_id)
        .where(*silent)
        .order_by(Organisation.short_name, Person.name, Recipient.id)
        .limit(limit)
    ).all()
    return [SilentRecipient(*row) for row in rows], total


@dataclass(frozen=True)
class CallRow:
    """One recipient's calls of an alert: how many were placed, answered by a person, how long they lasted in all
    (None while no duration is known), and the last call's state and outcome code."""

    recipient_id: int
    name: str
    organisation_id: int
    organisation: str
    attempts: int
    answered: int
    seconds: int | None
    last_state: str
    last_error: str | None


def call_rows(session: Session, *, alert_id: int, limit: int) -> list[CallRow]:
    """The alert's recipients who were called (or have a call waiting), by organisation and name; at most ``limit``."""
    rows = session.execute(
        select(
            Delivery.recipient_id,
            Person.name,
            Recipient.organisation_id,
            Organisation.short_name,
            Delivery.state,
            Delivery.provider_id,
            Delivery.error_code,
            Delivery.duration_seconds,
        )
        .join(Recipient, Recipient.id == Delivery.recipient_id)
        .join(Person, Person.id == Recipient.person_id)
        .join(Organisation, Organisation.id == Recipient.organisation_id)
        .where(Delivery.alert_id == alert_id, Delivery.channel == Channel.voice)
        .order_by(Organisation.short_name, Person.name, Delivery.recipient_id, Delivery.id)
    ).all()
    calls: dict[int, CallRow] = {}
    for recipient_id, name, organisation_id, organisation, state, provider_id, error, seconds in rows:
        before = calls.get(recipient_id)
        if before is None and len(calls) >= limit:
            break
        attempts = (before.attempts if before else 0) + (provider_id is not None)
        answered = (before.answered if before else 0) + (state is DeliveryState.delivered)
        total = before.seconds if before else None
        if seconds is not None:
            total = (total or 0) + seconds
        calls[recipient_id] = CallRow(
            recipient_id, name, organisation_id, organisation, attempts, answered, total, state.value, error
        )
    return list(calls.values())


# An alert of the past (the demo's history: written with ``create_alert(..., dispatch=False)``) -------------------


@dataclass(frozen=True)
class PastDelivery:
    id: int
    recipient_id: int
    channel: Channel


def past_deliveries(session: Session, *, alert_ids: Sequence[int]) -> list[PastDelivery]:
    rows = session.execute(
        select(Delivery.id, Delivery.recipient_id, Delivery.channel)
        .where(Delivery.alert_id.in_(alert_ids))
        .order_by(Delivery.id)
    )
    return [PastDelivery(*row) for row in rows]


def record_past_outcome(
    session: Session,
    *,
    delivery_id: int,
    sent_at: datetime,
    delivered_at: datetime | None = None,
    failed_at: datetime | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> None:
    """What happened to a delivery of an alert of the past: delivered (with its receipt), undelivered with the
    provider's code, or only sent (a channel without receipts, as email)."""
    state = DeliveryState.undelivered if failed_at else DeliveryState.delivered if delivered_at else DeliveryState.sent
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(
            state=state,
            sent_at=sent_at,
            delivered_at=delivered_at,
            failed_at=failed_at,
            error_code=error_code,
            error_message=error_message,
            attempts=1,
            provider_id=f"demo-{delivery_id}",
        )
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class PastRecipient:
    id: int
    alert_id: int
    person_id: int | None


def past_recipients(session: Session, *, alert_ids: Sequence[int]) -> list[PastRecipient]:
    rows = session.execute(
        select(Recipient.id, Recipient.alert_id, Recipient.person_id)
        .where(Recipient.alert_id.in_(alert_ids))
        .order_by(Recipient.id)
    )
    return [PastRecipient(*row) for row in rows]
