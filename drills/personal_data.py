"""What the drills domain holds about people (alueturva/personal/holders.py): an imported exercise log's people, by
name, number and address, and its rows as read. Retention kind ``deliveries`` (they are a drill's deliveries).

Someone the roster does not know is counted by what the log says of them (``drills.measures``): their pseudonym is
made of all of it, so distinct people stay distinct and the report's figures stay the same."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.orm import Session

from alueturva.personal.holders import Holder, Retention, Subject, rows_changed
from alueturva.personal.pseudonym import PREFIX, person_pseudonym, pseudonym_of
from drills.models import Drill, ImportedEvent, ImportedRecipient, ReportFile


def _of(value: str | None, token: str) -> str | None:
    return None if value is None else token


def _expired_recipients(session: Session, *, before: datetime, after_id: int, limit: int) -> Sequence[int]:
    query = select(ImportedRecipient.id).where(
        ImportedRecipient.alert_at < before,
        ~ImportedRecipient.name.startswith(PREFIX, autoescape=True),
        ImportedRecipient.id > after_id,
    )
    return session.scalars(query.order_by(ImportedRecipient.id).limit(limit)).all()


def _pseudonymise_recipients(session: Session, *, ids: Sequence[int]) -> int:
    rows = session.execute(
        select(ImportedRecipient.id, ImportedRecipient.name, ImportedRecipient.mobile, ImportedRecipient.email).where(
            ImportedRecipient.id.in_(ids)
        )
    ).all()
    changes = []
    for row in rows:
        token = pseudonym_of(f"imported:{row.name}|{row.mobile or ''}|{row.email or ''}")
        changes.append({"id": row.id, "name": token, "mobile": _of(row.mobile, token), "email": _of(row.email, token)})
    if changes:
        session.execute(update(ImportedRecipient), changes)
    return len(changes)


def _expired_events(session: Session, *, before: datetime, after_id: int, limit: int) -> Sequence[int]:
    readable = (ImportedEvent.name.is_not(None) & ~ImportedEvent.name.startswith(PREFIX, autoescape=True)) | (
        ImportedEvent.number.is_not(None) & ~ImportedEvent.number.startswith(PREFIX, autoescape=True)
    )
    query = select(ImportedEvent.id).where(ImportedEvent.at < before, readable, ImportedEvent.id > after_id)
    return session.scalars(query.order_by(ImportedEvent.id).limit(limit)).all()


def _pseudonymise_events(session: Session, *, ids: Sequence[int]) -> int:
    rows = session.execute(
        select(ImportedEvent.id, ImportedEvent.name, ImportedEvent.number, ImportedEvent.email).where(
            ImportedEvent.id.in_(ids)
        )
    ).all()
    changes = []
    for row in rows:
        token = pseudonym_of(f"imported:{row.name or ''}|{row.number or ''}|{row.email or ''}")
        changes.append({"id": row.id, "name": token, "number": _of(row.number, token), "email": _of(row.email, token)})
    if changes:
        session.execute(update(ImportedEvent), changes)
    return len(changes)


def _export_imported(session: Session, *, subject: Subject) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ImportedRecipient, Drill.name)
        .join(Drill, Drill.id == ImportedRecipient.drill_id)
        .where(ImportedRecipient.person_id == subject.person_id)
        .order_by(ImportedRecipient.alert_at)
    ).all()
    return [
        {
            "drill": name,
            "name": recipient.name,
            "mobile": recipient.mobile,
            "email": recipient.email,
            "alerted_at": recipient.alert_at,
            "acknowledged_at": recipient.acknowledged_at,
            "response": recipient.response,
        }
        for recipient, name in rows
    ]


def _erase_imported(session: Session, *, subject: Subject) -> int:
    """Where a log names the person: by the roster's id, or by their number or address."""
    pseudonym = person_pseudonym(subject.person_id)
    addresses = [address for address in (subject.mobile, subject.email) if address]
    recipients = update(ImportedRecipient).where(
        or_(
            ImportedRecipient.person_id == subject.person_id,
            ImportedRecipient.mobile.in_(addresses),
            ImportedRecipient.email.in_(addresses),
        )
    )
    events = update(ImportedEvent).where(or_(ImportedEvent.number.in_(addresses), ImportedEvent.email.in_(addresses)))
    options = {"synchronize_session": False}
    changed = rows_changed(
        session.execute(
            recipients.values(
                name=pseudonym,
                mobile=case((ImportedRecipient.mobile.is_(None), None), else_=pseudonym),
                email=case((ImportedRecipient.email.is_(None), None), else_=pseudonym),
            ),
            execution_options=options,
        )
    )
    changed_events = rows_changed(
        session.execute(
            events.values(
                name=pseudonym,
                number=case((ImportedEvent.number.is_(None), None), else_=pseudonym),
                email=case((ImportedEvent.email.is_(None), None), else_=pseudonym),
            ),
            execution_options=options,
        )
    )
    return changed + changed_events


def _erase_report_files(session: Session, *, subject: Subject) -> int:
    """The built report PDFs (a cache: a report is built again when asked for) may name the person: all go."""
    return rows_changed(session.execute(delete(ReportFile)))


HOLDERS = (
    Holder(
        "drills.imported_recipients",
        Retention("deliveries", _expired_recipients, _pseudonymise_recipients),
        export=_export_imported,
        erase=_erase_imported,
    ),
    Holder("drills.imported_events", Retention("deliveries", _expired_events, _pseudonymise_events)),
    Holder("drills.report_files", erase=_erase_report_files),
)
