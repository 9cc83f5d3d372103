"""Who could not be reached, and why, turned into roster fixes for the organisation that should make them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.models import Channel, Delivery, DeliveryState, Recipient
from contacts.compliance import check_compliance
from contacts.models import Organisation, Person
from drills.models import Drill, DrillAlert, DrillAlertPurpose
from drills.report.texts import FIXES

NOT_DELIVERED = (DeliveryState.failed, DeliveryState.undelivered)


def _fix(kind: str, organisation: str, person: str | None, language: str, **values: Any) -> dict[str, Any]:
    return {
        "code": kind,
        "organisation": organisation,
        "person": person,
        "problem": FIXES[language][kind].format(**values),
    }


def _measured_people(session: Session, alert_ids: Sequence[int]) -> list[Any]:
    return list(
        session.execute(
            select(Recipient.id, Person.id.label("person_id"), Person.name, Person.mobile, Organisation.short_name)
            .join(Person, Person.id == Recipient.person_id)
            .join(Organisation, Organisation.id == Recipient.organisation_id)
            .where(Recipient.alert_id.in_(list(alert_ids)), Recipient.deputy_for_id.is_(None))
            .order_by(Organisation.short_name, Person.name)
        )
    )


def _undelivered(session: Session, alert_ids: Sequence[int]) -> dict[int, list[tuple[Channel, str | None]]]:
    found: dict[int, list[tuple[Channel, str | None]]] = {}
    rows = session.execute(
        select(Delivery.recipient_id, Delivery.channel, Delivery.error_code)
        .where(Delivery.alert_id.in_(list(alert_ids)), Delivery.state.in_(NOT_DELIVERED))
        .order_by(Delivery.id)
    )
    for recipient_id, channel, code in rows:
        if (channel, code) not in found.setdefault(recipient_id, []):
            found[recipient_id].append((channel, code))
    return found


def _answered_a_drill_in(session: Session, start: datetime, end: datetime) -> set[int]:
    """People who acknowledged an alert of any drill held in [start, end)."""
    return set(
        session.scalars(
            select(Recipient.person_id)
            .distinct()
            .join(DrillAlert, DrillAlert.alert_id == Recipient.alert_id)
            .join(Drill, Drill.id == DrillAlert.drill_id)
            .where(
                Drill.started_at >= start,
                Drill.started_at < end,
                DrillAlert.purpose.in_((DrillAlertPurpose.alert, DrillAlertPurpose.reach_question)),
                Recipient.acknowledged_at.is_not(None),
            )
        )
    )


def roster_fixes(
    session: Session, *, alert_ids: Sequence[int], year: tuple[datetime, datetime], language: str, redact: bool
) -> list[dict[str, Any]]:
    fixes: list[dict[str, Any]] = []
    undelivered = _undelivered(session, alert_ids)
    answered = _answered_a_drill_in(session, *year)
    for row in _measured_people(session, alert_ids):
        person = None if redact else row.name
        if row.mobile is None:
            fixes.append(_fix("no_mobile", row.short_name, person, language))
        for channel, code in undelivered.get(row.id, []):
            kind = "sms_refused" if channel is Channel.sms else "email_bounced"
            fixes.append(_fix(kind, row.short_name, person, language, code=code or "-"))
        if row.person_id not in answered:
            fixes.append(_fix("never_answered", row.short_name, person, language))
    for result in check_compliance(session).results("required"):
        if result.status == "missing":
            role = result.role_name.get(language, result.role_name["fi"])
            scope = result.scope_names.get(language) or result.scope
            fixes.append(_fix("role_unnamed", scope, None, language, role=role))
    return fixes
