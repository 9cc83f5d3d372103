"""What the alerting domain holds about people (alueturva/personal/holders.py): each delivery's number or address,
SMS replies, who acknowledged on someone's behalf, and the demo outbox. Retention kind ``deliveries``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from alerting.models import Alert, Delivery, InboundMessage, OutboxMessage, Recipient
from alueturva.personal.holders import Holder, Retention, Subject, rows_changed
from alueturva.personal.pseudonym import PREFIX, person_pseudonym, pseudonym_of


def _readable(column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None]) -> ColumnElement[bool]:
    return column.is_not(None) & ~column.startswith(PREFIX, autoescape=True)


def _page(query: Select[int], id_column: InstrumentedAttribute[int], *, after_id: int, limit: int) -> Select[int]:
    return query.where(id_column > after_id).order_by(id_column).limit(limit)


# Deliveries: the number or address a message went to, and the provider's error text (it may quote the number).


def _expired_deliveries(session: Session, *, before: datetime, after_id: int, limit: int) -> Sequence[int]:
    query = select(Delivery.id).where(Delivery.created_at < before, _readable(Delivery.address))
    return session.scalars(_page(query, Delivery.id, after_id=after_id, limit=limit)).all()


def _pseudonymise_deliveries(session: Session, *, ids: Sequence[int]) -> int:
    rows = session.execute(
        select(Delivery.id, Recipient.person_id)
        .join(Recipient, Recipient.id == Delivery.recipient_id)
        .where(Delivery.id.in_(ids))
    ).all()
    changes = [{"id": row.id, "address": person_pseudonym(row.person_id), "error_message": None} for row in rows]
    if changes:
        session.execute(update(Delivery), changes)
    return len(changes)


# Inbound SMS: the reply's text.


def _expired_inbound(session: Session, *, before: datetime, after_id: int, limit: int) -> Sequence[int]:
    query = select(InboundMessage.id).where(InboundMessage.received_at < before, _readable(InboundMessage.body))
    return session.scalars(_page(query, InboundMessage.id, after_id=after_id, limit=limit)).all()


def _inbound_pseudonym(message_id: int, person_id: int | None) -> str:
    return person_pseudonym(person_id) if person_id is not None else pseudonym_of(f"inbound:{message_id}")


def _pseudonymise_inbound(session: Session, *, ids: Sequence[int]) -> int:
    rows = session.execute(select(InboundMessage.id, InboundMessage.person_id).where(InboundMessage.id.in_(ids))).all()
    changes = [{"id": row.id, "body": _inbound_pseudonym(row.id, row.person_id)} for row in rows]
    if changes:
        session.execute(update(InboundMessage), changes)
    return len(changes)


# Acknowledgement details: who acknowledged on someone's behalf.


def _expired_acks(session: Session, *, before: datetime, after_id: int, limit: int) -> Sequence[int]:
    query = select(Recipient.id).where(Recipient.added_at < before, _readable(Recipient.ack_by))
    return session.scalars(_page(query, Recipient.id, after_id=after_id, limit=limit)).all()


def _pseudonymise_acks(session: Session, *, ids: Sequence[int]) -> int:
    rows = session.execute(select(Recipient.id, Recipient.ack_by).where(Recipient.id.in_(ids))).all()
    changes = [{"id": row.id, "ack_by": pseudonym_of(f"actor:{row.ack_by}")} for row in rows]
    if changes:
        session.execute(update(Recipient), changes)
    return len(changes)


# The demo outbox: what the console backends "sent", to whom.


def _expired_outbox(session: Session, *, before: datetime, after_id: int, limit: int) -> Sequence[int]:
    query = select(OutboxMessage.id).where(OutboxMessage.sent_at < before, _readable(OutboxMessage.to))
    return session.scalars(_page(query, OutboxMessage.id, after_id=after_id, limit=limit)).all()


def _pseudonymise_outbox(session: Session, *, ids: Sequence[int]) -> int:
    rows = session.execute(select(OutboxMessage.id, OutboxMessage.to).where(OutboxMessage.id.in_(ids))).all()
    changes = [
        {"id": row.id, "to": token, "subject": None, "body": token}
        for row, token in ((row, pseudonym_of(f"address:{row.to}")) for row in rows)
    ]
    if changes:
        session.execute(update(OutboxMessage), changes)
    return len(changes)


# A person's data export.


def _title(title: str, translations: dict[str, dict[str, object]]) -> dict[str, str]:
    return {language: str(translations.get(language, {}).get("title") or title) for language in ("fi", "sv", "en")}


def _export_alerts(session: Session, *, subject: Subject) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Alert, Recipient)
        .join(Recipient, Recipient.alert_id == Alert.id)
        .where(Recipient.person_id == subject.person_id)
        .order_by(Recipient.added_at, Recipient.id)
    ).all()
    return [
        {
            "alert": alert.id,
            "title": _title(alert.title, alert.translations),
            "exercise": alert.exercise,
            "alerted_at": recipient.added_at,
            "acknowledged_at": recipient.acknowledged_at,
            "ack_method": recipient.ack_method.value if recipient.ack_method else None,
            "response": recipient.response,
        }
        for alert, recipient in rows
    ]


def _export_deliveries(session: Session, *, subject: Subject) -> list[dict[str, Any]]:
    deliveries = session.scalars(
        select(Delivery)
        .join(Recipient, Recipient.id == Delivery.recipient_id)
        .where(Recipient.person_id == subject.person_id)
        .order_by(Delivery.id)
    ).all()
    return [
        {
            "alert": delivery.alert_id,
            "channel": delivery.channel.value,
            "address": delivery.address,
            "state": delivery.state.value,
            "sent_at": delivery.sent_at,
            "delivered_at": delivery.delivered_at,
            "failed_at": delivery.failed_at,
        }
        for delivery in deliveries
    ]


def _export_replies(session: Session, *, subject: Subject) -> list[dict[str, Any]]:
    replies = session.scalars(
        select(InboundMessage).where(InboundMessage.person_id == subject.person_id).order_by(InboundMessage.id)
    ).all()
    return [{"received_at": reply.received_at, "body": reply.body} for reply in replies]


def _addresses(subject: Subject) -> list[str]:
    return [address for address in (subject.mobile, subject.email) if address]


def _export_outbox(session: Session, *, subject: Subject) -> list[dict[str, Any]]:
    messages = session.scalars(
        select(OutboxMessage).where(OutboxMessage.to.in_(_addresses(subject))).order_by(OutboxMessage.id)
    ).all()
    return [
        {"sent_at": message.sent_at, "channel": message.channel.value, "address": message.to, "body": message.body}
        for message in messages
    ]


# Erasure: every row about the person, pseudonymised.


def _erase_deliveries(session: Session, *, subject: Subject) -> int:
    recipients = select(Recipient.id).where(Recipient.person_id == subject.person_id).scalar_subquery()
    statement = (
        update(Delivery)
        .where(Delivery.recipient_id.in_(recipients))
        .values(address=person_pseudonym(subject.person_id), error_message=None)
    )
    return rows_changed(session.execute(statement, execution_options={"synchronize_session": False}))


def _erase_replies(session: Session, *, subject: Subject) -> int:
    statement = (
        update(InboundMessage)
        .where(InboundMessage.person_id == subject.person_id)
        .values(body=person_pseudonym(subject.person_id))
    )
    return rows_changed(session.execute(statement, execution_options={"synchronize_session": False}))


def _erase_outbox(session: Session, *, subject: Subject) -> int:
    pseudonym = person_pseudonym(subject.person_id)
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.to.in_(_addresses(subject)))
        .values(to=pseudonym, subject=None, body=pseudonym)
    )
    return rows_changed(session.execute(statement, execution_options={"synchronize_session": False}))


HOLDERS = (
    Holder(
        "alerting.acknowledgements", Retention("deliveries", _expired_acks, _pseudonymise_acks), export=_export_alerts
    ),
    Holder(
        "alerting.deliveries",
        Retention("deliveries", _expired_deliveries, _pseudonymise_deliveries),
        export=_export_deliveries,
        erase=_erase_deliveries,
    ),
    Holder(
        "alerting.inbound_messages",
        Retention("deliveries", _expired_inbound, _pseudonymise_inbound),
        export=_export_replies,
        erase=_erase_replies,
    ),
    Holder(
        "alerting.outbox",
        Retention("deliveries", _expired_outbox, _pseudonymise_outbox),
        export=_export_outbox,
        erase=_erase_outbox,
    ),
)
