"""Erasing a person (docs/personal-data.md §3): a use case of its own transaction, across every domain's holder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alueturva.audit import service as audit
from alueturva.auth.service import Principal
from alueturva.db import get_database, overwrite_freed_space, utcnow
from alueturva.errors import Conflict
from alueturva.personal.holders import Subject, registered
from contacts import service


@dataclass(frozen=True)
class Erased:
    person_id: int
    erased_at: datetime
    rows: dict[str, int]  # per holder, the rows pseudonymised (or, for the roster, removed)


def erase_person(*, person_id: int, reason: str, actor: Principal) -> Erased:
    """Out of every roster, every row about the person pseudonymised, in one transaction with its audit entry (the
    reason, no name); then the freed space overwritten. A person erased already is a 409."""
    database = get_database()
    with database.session() as session:
        person = service.get_person(session, person_id=person_id)
        if person.erased_at is not None:
            raise Conflict(f"person {person_id} is erased already")
        subject = Subject(person_id=person.id, mobile=person.mobile, email=person.email)
        rows = {holder.name: holder.erase(session, subject=subject) for holder in registered() if holder.erase}
        audit.record(
            session,
            actor=actor.actor,
            action="person.erase",
            entity_type="person",
            entity_id=person_id,
            details={"reason": reason, "rows": sum(rows.values())},
        )
        erased_at = person.erased_at or utcnow()
        session.commit()
    overwrite_freed_space(database.engine)
    return Erased(person_id=person_id, erased_at=erased_at, rows=rows)
