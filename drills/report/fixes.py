"""Who could not be reached, and why, turned into roster fixes for the organisation that should make them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from alerting.models import Recipient
from alueturva.personal.pseudonym import shown as shown_name
from contacts.compliance import check_compliance
from drills.models import Drill, DrillAlert, DrillAlertPurpose, ImportedRecipient
from drills.report.people import CALL_CHANNELS, ReportRows
from drills.report.schemas import RosterFix
from drills.report.texts import call_outcome, text


def _fix(kind: str, organisation: str, person: str | None, language: str, **values: Any) -> RosterFix:
    return RosterFix(
        code=kind, organisation=organisation, person=person, problem=text("fixes", kind, language, **values)
    )


def _undelivered(messages: Sequence[Any]) -> dict[int, list[tuple[str, str | None]]]:
    """Each recipient's failed messages: channel and error code, each pair once, in the order they were made."""
    found: dict[int, list[tuple[str, str | None]]] = {}
    for message in messages:
        if message.state != "failed":
            continue
        failures = found.setdefault(message.recipient_id, [])
        if (message.channel, message.error_code) not in failures:
            failures.append((message.channel, message.error_code))
    return found


def _answered_a_drill_in(session: Session, start: datetime, end: datetime) -> set[int]:
    """People who acknowledged an alert of any drill held in [start, end), run here or imported."""
    here = (
        select(Recipient.person_id)
        .join(DrillAlert, DrillAlert.alert_id == Recipient.alert_id)
        .join(Drill, Drill.id == DrillAlert.drill_id)
        .where(
            Drill.started_at >= start,
            Drill.started_at < end,
            DrillAlert.purpose.in_((DrillAlertPurpose.alert, DrillAlertPurpose.reach_question)),
            Recipient.acknowledged_at.is_not(None),
        )
    )
    elsewhere = (
        select(ImportedRecipient.person_id)
        .join(Drill, Drill.id == ImportedRecipient.drill_id)
        .where(
            Drill.started_at >= start,
            Drill.started_at < end,
            ImportedRecipient.person_id.is_not(None),
            ImportedRecipient.acknowledged_at.is_not(None),
        )
    )
    return set(session.scalars(union(here, elsewhere)))


FAILED_FIX = {"sms": "sms_refused", "email": "email_bounced", "phone": "call_failed", "voice": "call_failed"}


SYSTEM_NAMES = {"erica": "Erica", "virve": "VIRVE"}  # the other systems' own names, the same in every language


def roster_fixes(
    session: Session,
    rows: ReportRows,
    *,
    year: tuple[datetime, datetime],
    language: str,
    redact: bool,
    label: Callable[[str | None], str] = lambda organisation: organisation or "",
) -> list[RosterFix]:
    """Each problem with the organisation that should fix it: no mobile number, a message that failed (the
    provider's code), nobody answering any drill this year, someone alerted who is not on the roster, and a role
    the agreement requires with nobody named."""
    fixes: list[RosterFix] = []
    undelivered = _undelivered(rows.messages)
    answered = _answered_a_drill_in(session, *year)
    for row in rows.people:
        if row.deputy_for_id is not None:  # the measured people only: a deputy's problems are their own alert's
            continue
        person, organisation = None if redact else shown_name(row.name, language), label(row.organisation)
        if row.person_id is None:
            fixes.append(_fix("not_on_roster", organisation, person, language))
        elif row.mobile is None:
            fixes.append(_fix("no_mobile", organisation, person, language))
        for channel, code in undelivered.get(row.recipient_id, []):
            kind = FAILED_FIX.get(channel, "not_delivered")
            name = SYSTEM_NAMES.get(channel, channel)
            if channel in CALL_CHANNELS:  # an outcome in words, or the provider's own code
                code = call_outcome(code, language) or text("fixes", "provider_code", language, code=code or "-")
            fixes.append(_fix(kind, organisation, person, language, code=code or "-", channel=name))
        if row.person_id is not None and row.person_id not in answered:
            fixes.append(_fix("never_answered", organisation, person, language))
    for result in check_compliance(session).results("required"):
        if result.status == "missing":
            role = result.role_name.get(language, result.role_name["fi"])
            scope = result.scope_names.get(language) or result.scope
            fixes.append(_fix("role_unnamed", scope, None, language, role=role))
    return list(dict.fromkeys(fixes))  # one person alerted in two phases: once (the fixes are frozen, hashable)
