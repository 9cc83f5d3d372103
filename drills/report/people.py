"""Per person: what reached them, when, and what they did; deputies alerted for them. Names, numbers and email
addresses only in the full report; a redacted one keeps organisations and roles."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.messages import options_in
from alerting.models import Alert, Delivery, DeliveryKind, Recipient
from contacts.catalogue import roles_by_key
from contacts.models import Membership, Organisation, Person


def _roles(session: Session, person_ids: set[int], language: str) -> dict[int, list[str]]:
    names = {key: getattr(role.names, language) for key, role in roles_by_key().items()}
    roles: dict[int, list[str]] = defaultdict(list)
    rows = session.execute(
        select(Membership.person_id, Membership.role_key).order_by(Membership.person_id, Membership.order)
    )
    for person_id, role_key in rows:
        role = names.get(role_key, role_key)
        if person_id in person_ids and role not in roles[person_id]:
            roles[person_id].append(role)
    return roles


def _delivery_events(session: Session, alert_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    events: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = session.execute(
        select(
            Delivery.recipient_id,
            Delivery.channel,
            Delivery.kind,
            Delivery.state,
            Delivery.sent_at,
            Delivery.delivered_at,
            Delivery.failed_at,
            Delivery.error_code,
        )
        .where(Delivery.alert_id.in_(list(alert_ids)), Delivery.kind != DeliveryKind.cancel)
        .order_by(Delivery.id)
    )
    for recipient_id, channel, kind, state, sent_at, delivered_at, failed_at, error_code in rows:
        timeline, channel_name, reminder = events[recipient_id], channel.value, kind is DeliveryKind.reminder
        if sent_at is not None:
            timeline.append({"at": sent_at, "event": "sent", "channel": channel_name, "reminder": reminder})
        if delivered_at is not None:
            timeline.append({"at": delivered_at, "event": "delivered", "channel": channel_name, "reminder": reminder})
        if failed_at is not None:
            timeline.append(
                {
                    "at": failed_at,
                    "event": "failed",
                    "channel": channel_name,
                    "reminder": reminder,
                    "error": error_code,
                    "state": state.value,
                }
            )
    return events


def people(
    session: Session, *, alert_ids: Sequence[int], language: str, redact: bool, contact_details: bool = True
) -> list[dict[str, Any]]:
    """Each person the drill's alerts reached out to, with their timeline (oldest event first). Redacted: no names;
    without ``contact_details``: names, but no mobile numbers or email addresses."""
    rows = session.execute(
        select(
            Recipient.id,
            Recipient.person_id,
            Recipient.deputy_for_id,
            Recipient.added_at,
            Recipient.acknowledged_at,
            Recipient.ack_method,
            Recipient.ack_late,
            Recipient.response,
            Recipient.alert_id,
            Alert.created_at,
            Person.name,
            Person.mobile,
            Person.email,
            Organisation.short_name,
        )
        .join(Alert, Alert.id == Recipient.alert_id)
        .join(Person, Person.id == Recipient.person_id)
        .join(Organisation, Organisation.id == Recipient.organisation_id)
        .where(Recipient.alert_id.in_(list(alert_ids)))
        .order_by(Organisation.short_name, Person.name, Recipient.id)
    ).all()
    events = _delivery_events(session, alert_ids)
    names = {row.id: row.name for row in rows}
    for row in rows:
        if row.deputy_for_id is not None:
            events[row.deputy_for_id].append({"at": row.added_at, "event": "deputy_alerted", "deputy": row.name})
    roles = _roles(session, {row.person_id for row in rows}, language)
    options = {
        alert_id: options_in(finnish, translations, language)
        for alert_id, finnish, translations in session.execute(
            select(Alert.id, Alert.response_options, Alert.translations).where(Alert.id.in_(list(alert_ids)))
        )
    }
    result = []
    for row in rows:
        timeline = list(events.get(row.id, []))
        if row.acknowledged_at is not None:
            timeline.append(
                {
                    "at": row.acknowledged_at,
                    "event": "acknowledged",
                    "method": row.ack_method.value,
                    "late": row.ack_late,
                }
            )
        timeline.sort(key=lambda event: event["at"])
        entry = {
            "organisation": row.short_name,
            "roles": roles.get(row.person_id, []),
            "deputy": row.deputy_for_id is not None,
            "acknowledged_at": row.acknowledged_at,
            "ack_seconds": _seconds(row.acknowledged_at, row.created_at),
            "late": row.ack_late,
            "response": row.response,
            "answer": options[row.alert_id][row.response - 1] if row.response else None,
            "timeline": [_without_names(event) for event in timeline] if redact else timeline,
        }
        if not redact:
            entry |= {
                "person_id": row.person_id,
                "name": row.name,
                "mobile": row.mobile if contact_details else None,
                "email": row.email if contact_details else None,
                "deputy_for": names.get(row.deputy_for_id) if row.deputy_for_id else None,
            }
        result.append(entry)
    return result


def _seconds(later: datetime | None, earlier: datetime) -> float | None:
    return None if later is None else round((later - earlier).total_seconds(), 1)


def _without_names(event: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in event.items() if key != "deputy"}
