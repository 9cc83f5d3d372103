from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from alueturva.api_types import MAX_ID, PeriodEnd, PeriodStart, SafeQueryText
from alueturva.audit import service
from alueturva.audit.schemas import AuditEventList, AuditEventRead
from alueturva.auth.dependencies import Admin, DbSession
from alueturva.errors import API_ERRORS, Invalid

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=API_ERRORS)


@router.get("", response_model=AuditEventList)
def list_audit_events(
    session: DbSession,
    _: Admin,
    person_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Entries about this person")] = None,
    kind: Annotated[
        Literal["read", "change"] | None, Query(description="read: who read contact details; change: the rest")
    ] = None,
    entity_type: Annotated[SafeQueryText | None, Query(max_length=60)] = None,
    entity_id: Annotated[SafeQueryText | None, Query(max_length=60)] = None,
    action: Annotated[SafeQueryText | None, Query(max_length=80)] = None,
    actor: Annotated[SafeQueryText | None, Query(max_length=120)] = None,
    since: Annotated[PeriodStart | None, Query()] = None,
    until: Annotated[PeriodEnd | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditEventList:
    """The audit log, newest first. ``person_id`` and ``kind=read`` list who read a person's contact details;
    ``kind=read`` with ``actor`` lists whose details one reader read."""
    if person_id is not None:
        if entity_type not in (None, "person") or entity_id not in (None, str(person_id)):
            raise Invalid("person_id cannot be combined with another entity_type or entity_id")
        entity_type, entity_id = "person", str(person_id)
    rows, total = service.list_events(
        session,
        reads=None if kind is None else kind == "read",
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor=actor,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return AuditEventList(items=[AuditEventRead.model_validate(row) for row in rows], total=total)
