from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, FromClause, Insert, Table, bindparam, func, insert, literal, select
from sqlalchemy.orm import Session

from alueturva.audit.models import AuditEvent
from alueturva.audit.reads import READ_ACTION


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: object | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event in the caller's transaction, so it commits or rolls back with the change itself."""
    audit_event = AuditEvent(
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        details=details or {},
    )
    session.add(audit_event)
    return audit_event


_audit_events = cast(Table, AuditEvent.__table__)
_APPEND = insert(_audit_events)  # built once: ``append`` runs for every acknowledgement


def append(
    connection: Connection,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: object | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """The event ``record`` appends (its time the column's default, as there), written at once with one INSERT on the
    caller's connection, so in its transaction too: no ORM object and no flush, for a path that runs thousands of
    times a minute."""
    connection.execute(
        _APPEND,
        {
            "actor": actor,
            "action": action,
            "entity_type": entity_type,
            "entity_id": None if entity_id is None else str(entity_id),
            "details": details or {},
        },
    )


def _conditions(
    *,
    reads: bool | None,
    entity_type: str | None,
    entity_id: str | None,
    action: str | None,
    actor: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[ColumnElement[bool]]:
    equal = {
        AuditEvent.entity_type: entity_type,
        AuditEvent.entity_id: entity_id,
        AuditEvent.action: action,
        AuditEvent.actor: actor,
    }
    conditions = [column == value for column, value in equal.items() if value is not None]
    if reads is not None:
        conditions.append(AuditEvent.action == READ_ACTION if reads else AuditEvent.action != READ_ACTION)
    if since is not None:
        conditions.append(AuditEvent.at >= since)
    if until is not None:
        conditions.append(AuditEvent.at < until)
    return conditions


def list_events(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    reads: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[AuditEvent], int]:
    """Audit entries, newest first; ``reads``: only reads of contact details (True), or only changes (False)."""
    conditions = _conditions(
        reads=reads, entity_type=entity_type, entity_id=entity_id, action=action, actor=actor, since=since, until=until
    )
    total = session.scalar(select(func.count(AuditEvent.id)).where(*conditions)) or 0
    rows = session.scalars(
        select(AuditEvent).where(*conditions).order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    ).all()
    return rows, total


def appended_for_each(rows: FromClause, *, action: str, entity_type: str) -> Insert:
    """An INSERT of one event for each row of ``rows`` (a data-modifying CTE's ``RETURNING`` on PostgreSQL), so that
    a change and its event are one statement; the event's values are bound when it runs: ``b_at`` (now), ``b_actor``,
    ``b_entity_id`` (text) and ``b_details``."""
    values = select(
        bindparam("b_at", type_=_audit_events.c.at.type),
        bindparam("b_actor", type_=_audit_events.c.actor.type),
        literal(action, _audit_events.c.action.type),
        literal(entity_type, _audit_events.c.entity_type.type),
        bindparam("b_entity_id", type_=_audit_events.c.entity_id.type),
        bindparam("b_details", type_=_audit_events.c.details.type),
    ).select_from(rows)
    return insert(_audit_events).from_select(["at", "actor", "action", "entity_type", "entity_id", "details"], values)
