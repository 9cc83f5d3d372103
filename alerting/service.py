"""Alerting data access: resolving targets, writing alerts in bulk, counts, acknowledgements."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Table,
    any_,
    bindparam,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import Subquery

from alerting.models import (
    AckMethod,
    Alert,
    AlertEvent,
    AlertStatus,
    Channel,
    Delivery,
    DeliveryKind,
    DeliveryState,
    Recipient,
)
from alerting.schemas import Targets
from alueturva.audit import service as audit
from alueturva.db import UTCDateTime, utcnow
from alueturva.errors import Invalid, NotFound
from contacts.models import Group, Membership, Organisation, Person

SENT_STATES = (DeliveryState.sent.value, DeliveryState.delivered.value, DeliveryState.undelivered.value)
OPEN_STATES = (DeliveryState.queued.value, DeliveryState.sending.value)


@dataclass(frozen=True)
class Contact:
    """The parts of a person a message needs, read once when the alert is created."""

    person_id: int
    organisation_id: int
    language: str
    mobile: str | None
    email: str | None


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def id_in(session: Session, column: InstrumentedAttribute[int], ids: Collection[int]) -> ColumnElement[bool]:
    """``column IN (ids)``; on PostgreSQL ``column = ANY(:array)``, one parameter however many ids there are."""
    if _is_postgresql(session):
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(list(ids))


def _missing(requested: Sequence[Any], found: set[Any]) -> list[Any]:
    return sorted({item for item in requested if item not in found}, key=str)


def _missing_people(session: Session, person_ids: Collection[int]) -> list[int]:
    """The ids that name nobody. Counted in the database first: the usual case (all exist) reads no rows back."""
    wanted = set(person_ids)
    found = session.scalar(select(func.count(Person.id)).where(id_in(session, Person.id, wanted))) or 0
    if found == len(wanted):
        return []
    return _missing(list(wanted), set(session.scalars(select(Person.id).where(id_in(session, Person.id, wanted)))))


def _check_references(session: Session, targets: Targets) -> None:
    from contacts.catalogue import roles_by_key

    problems = []
    if targets.groups:
        found = set(session.scalars(select(Group.id).where(Group.id.in_(targets.groups))))
        if missing := _missing(targets.groups, found):
            problems.append(f"unknown group ids: {missing}")
    if targets.organisations:
        found = set(session.scalars(select(Organisation.id).where(Organisation.id.in_(targets.organisations))))
        if missing := _missing(targets.organisations, found):
            problems.append(f"unknown organisation ids: {missing}")
    if targets.people and (missing := _missing_people(session, targets.people)):
        problems.append(f"unknown person ids: {missing[:20]}")
    if targets.roles and (missing := _missing(targets.roles, set(roles_by_key()))):
        problems.append(f"unknown role keys: {missing}")
    if problems:
        raise Invalid("targets: " + "; ".join(problems))


def _targeted(session: Session, targets: Targets) -> ColumnElement[bool]:
    """The condition on ``Person`` that the targets name: any of groups, roles, organisations, areas, people."""
    conditions = []
    if targets.people:
        conditions.append(id_in(session, Person.id, set(targets.people)))
    if targets.organisations:
        conditions.append(Person.organisation_id.in_(targets.organisations))
    if targets.areas:
        conditions.append(
            Person.organisation_id.in_(select(Organisation.id).where(Organisation.area.in_(targets.areas)))
        )
    if targets.groups:
        conditions.append(Person.id.in_(select(Membership.person_id).where(Membership.group_id.in_(targets.groups))))
    if targets.roles:
        conditions.append(Person.id.in_(select(Membership.person_id).where(Membership.role_key.in_(targets.roles))))
    return or_(*conditions)


def add_targeted_recipients(session: Session, *, alert_id: int, targets: Targets, now: datetime) -> int:
    """Make every active person the targets name a recipient of the alert, each once; how many there are.

    Resolved and written by one ``INSERT ... SELECT`` inside the database: for a 10,000-person alert no person row
    travels to Python and back, which was most of the time between the POST and the first message.
    """
    _check_references(session, targets)
    people = (
        select(
            literal(alert_id, Integer),
            Person.id,
            Person.organisation_id,
            Person.language,
            literal(now, UTCDateTime()),
            false(),
        )
        .where(Person.active.is_(True), _targeted(session, targets))
        .order_by(Person.id)
    )
    columns = ["alert_id", "person_id", "organisation_id", "language", "added_at", "ack_late"]
    session.execute(insert(Recipient).from_select(columns, people))
    # counted, not taken from the cursor's rowcount: psycopg reports -1 for an INSERT ... SELECT of no rows
    return session.scalar(select(func.count(Recipient.id)).where(Recipient.alert_id == alert_id)) or 0


def sms_languages(session: Session, *, alert_id: int) -> list[str]:
    """The languages of the alert's recipients who have a mobile number (their SMS texts must fit)."""
    return list(
        session.scalars(
            select(Recipient.language)
            .join(Person, Person.id == Recipient.person_id)
            .where(Recipient.alert_id == alert_id, Person.mobile.is_not(None))
            .distinct()
        )
    )


def _address(channel: Channel) -> InstrumentedAttribute[str | None]:
    return Person.mobile if channel is Channel.sms else Person.email


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
            _address(channel),
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
            _address(channel).is_not(None),
            _address(channel) != "",
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
            func.count(delivery.c.id).filter(counted, delivery.c.state.in_(OPEN_STATES)).label("open"),
        )
        .select_from(Recipient)
        .join(delivery, delivery.c.recipient_id == Recipient.id, isouter=True)
        .where(Recipient.alert_id == alert_id)
        .group_by(Recipient.id, Recipient.organisation_id, Recipient.acknowledged_at)
        .subquery()
    )


COUNT_KEYS = ("targeted", "sent", "delivered", "failed", "acknowledged")


def alert_counts(session: Session, *, alert_id: int) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Recipient counts for the whole alert and per organisation, added up in the database (one row per
    organisation comes back, however many recipients there are: ``alert watch`` asks every second).

    ``sent``: reached the provider at least once; ``delivered``: the provider confirmed at least one message;
    ``failed``: nothing could be sent (no address on the chosen channels, or every attempt failed).
    """
    recipient = _per_recipient(alert_id)
    rows = session.execute(
        select(
            recipient.c.organisation_id,
            func.count().label("targeted"),
            func.count().filter(recipient.c.sent > 0).label("sent"),
            func.count().filter(recipient.c.delivered > 0).label("delivered"),
            func.count().filter(recipient.c.sent == 0, recipient.c.open == 0).label("failed"),
            func.count().filter(recipient.c.acknowledged).label("acknowledged"),
        ).group_by(recipient.c.organisation_id)
    ).all()
    per_org = {row.organisation_id: {key: int(getattr(row, key)) for key in COUNT_KEYS} for row in rows}
    total = {key: sum(counts[key] for counts in per_org.values()) for key in COUNT_KEYS}
    names = dict(
        session.execute(select(Organisation.id, Organisation.short_name).where(Organisation.id.in_(per_org))).all()
    )
    by_org = [
        {"organisation_id": org_id, "organisation": names.get(org_id, str(org_id)), **counts}
        for org_id, counts in sorted(per_org.items(), key=lambda item: names.get(item[0], ""))
    ]
    return total, by_org


def delivery_state_counts(session: Session, *, alert_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Delivery.state, func.count(Delivery.id)).where(Delivery.alert_id == alert_id).group_by(Delivery.state)
    ).all()
    return {str(state.value if hasattr(state, "value") else state): count for state, count in rows}


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


def get_recipient(session: Session, *, alert_id: int, recipient_id: int) -> Recipient:
    recipient = session.get(Recipient, recipient_id)
    if recipient is None or recipient.alert_id != alert_id:
        raise NotFound(f"recipient {recipient_id} of alert {alert_id} not found")
    return recipient


@dataclass(frozen=True)
class AckOutcome:
    already: bool  # the recipient had acknowledged before: nothing changed (except a first poll answer)
    late: bool  # the acknowledgement came after the alert closed or was cancelled


_recipients = cast(Table, Recipient.__table__)
# Built once (the SMS reply path runs them for every acknowledgement in a burst).
_FIRST_ACKNOWLEDGEMENT = (
    update(_recipients)
    .where(_recipients.c.id == bindparam("b_id"), _recipients.c.acknowledged_at.is_(None))
    .values(
        acknowledged_at=bindparam("b_now"),
        ack_method=bindparam("b_method"),
        ack_by=bindparam("b_actor"),
        ack_late=bindparam("b_late"),
        response=bindparam("b_response"),
    )
)
_FIRST_RESPONSE = (
    update(_recipients)
    .where(_recipients.c.id == bindparam("b_id"), _recipients.c.response.is_(None))
    .values(response=bindparam("b_response"))
)


def record_acknowledgement(
    session: Session,
    *,
    alert_id: int,
    recipient_id: int,
    late: bool,
    method: AckMethod,
    actor: str,
    response: int | None,
    now: datetime,
    details: dict[str, object] | None = None,
) -> AckOutcome:
    """Acknowledge atomically: only the first acknowledgement of a recipient is recorded (and audited), however many
    arrive at once. A later one may still add a poll answer if none was given."""
    connection = session.connection()
    first = connection.execute(
        _FIRST_ACKNOWLEDGEMENT,
        {
            "b_id": recipient_id,
            "b_now": now,
            "b_method": method,
            "b_actor": actor,
            "b_late": late,
            "b_response": response,
        },
    )
    if first.rowcount:
        audit.record(
            session,
            actor=actor,
            action="alert.acknowledge",
            entity_type="alert",
            entity_id=alert_id,
            details={
                "recipient_id": recipient_id,
                "method": method.value,
                "response": response,
                "late": late,
                **(details or {}),
            },
        )
        return AckOutcome(already=False, late=late)
    if (
        response is not None
        and connection.execute(_FIRST_RESPONSE, {"b_id": recipient_id, "b_response": response}).rowcount
    ):
        audit.record(
            session,
            actor=actor,
            action="alert.respond",
            entity_type="alert",
            entity_id=alert_id,
            details={"recipient_id": recipient_id, "method": method.value, "response": response},
        )
    return AckOutcome(already=True, late=late)


def is_late(alert: Alert, now: datetime) -> bool:
    return alert.status is not AlertStatus.open or now >= alert.closes_at


def check_response(alert: Alert, response: int | None) -> None:
    if response is not None and not 1 <= response <= len(alert.response_options):
        raise Invalid(
            f"response {response} is not an option of alert {alert.id}"
            + (f"; choose 1 to {len(alert.response_options)}" if alert.response_options else "; it has none")
        )


def acknowledge(
    session: Session,
    *,
    recipient: Recipient,
    method: AckMethod,
    actor: str,
    response: int | None = None,
    now: datetime | None = None,
    details: dict[str, object] | None = None,
) -> AckOutcome:
    """Record an acknowledgement (idempotent: a second one changes nothing). After the alert closed it is late."""
    alert = recipient.alert
    check_response(alert, response)
    now = now or utcnow()
    outcome = record_acknowledgement(
        session,
        alert_id=alert.id,
        recipient_id=recipient.id,
        late=is_late(alert, now),
        method=method,
        actor=actor,
        response=response,
        now=now,
        details=details,
    )
    session.expire(recipient)  # written around the ORM: read it again when asked
    return outcome
