"""Who read whose contact details (docs/personal-data.md §4): every read of a person's mobile number or email address
by a console user or an API key is an audit entry ``person.read`` about that person, with the reader, the moment and
the route or page. A list counts as a read of each person it shows. Admins list them with
``GET /api/v1/audit?person_id=&kind=read`` (or ``&actor=`` for one reader)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from alueturva.audit.models import AuditEvent

READ_ACTION = "person.read"


def record_reads(session: Session, *, actor: str, person_ids: Iterable[int | None], route: str) -> int:
    """One entry per person shown, in the reading request's transaction (a read route's session commits when it
    returns); how many."""
    ids = sorted({person_id for person_id in person_ids if person_id is not None})
    session.add_all(
        AuditEvent(actor=actor, action=READ_ACTION, entity_type="person", entity_id=str(i), details={"route": route})
        for i in ids
    )
    return len(ids)
