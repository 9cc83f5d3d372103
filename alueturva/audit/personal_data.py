"""What the audit log holds about people: who acted (retention kind ``audit``). The log is append-only for everyone
else; retention alone rewrites an old entry's actor as a pseudonym, the entry itself stays."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from alueturva.audit.models import AuditEvent
from alueturva.personal.holders import Holder, Retention, Subject
from alueturva.personal.pseudonym import PREFIX, pseudonym_of


def _expired(session: Session, *, before: datetime, after_id: int, limit: int) -> Sequence[int]:
    query = select(AuditEvent.id).where(
        AuditEvent.at < before, ~AuditEvent.actor.startswith(PREFIX, autoescape=True), AuditEvent.id > after_id
    )
    return session.scalars(query.order_by(AuditEvent.id).limit(limit)).all()


def _pseudonymise(session: Session, *, ids: Sequence[int]) -> int:
    rows = session.execute(select(AuditEvent.id, AuditEvent.actor).where(AuditEvent.id.in_(ids))).all()
    for row in rows:  # a statement, not a changed object: the ORM's append-only guard is for the application
        actor = pseudonym_of(f"actor:{row.actor}")
        session.execute(update(AuditEvent).where(AuditEvent.id == row.id).values(actor=actor))
    return len(rows)


def _export(session: Session, *, subject: Subject) -> list[dict[str, Any]]:
    """The audit entries about the person: changes to their roster entry, and who read their contact details."""
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "person", AuditEvent.entity_id == str(subject.person_id))
        .order_by(AuditEvent.id)
    ).all()
    return [{"at": event.at, "actor": event.actor, "action": event.action} for event in events]


HOLDERS = (Holder("audit.events", Retention("audit", _expired, _pseudonymise), export=_export),)
