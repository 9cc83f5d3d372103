from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from alueturva.api_types import PeriodEnd, PeriodStart, SafeQueryText
from alueturva.audit import service
from alueturva.audit.schemas import AuditEventList, AuditEventRead
from alueturva.auth.dependencies import Admin, DbSession
from alueturva.errors import API_ERRORS

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=API_ERRORS)


@router.get("", response_model=AuditEventList)
def list_audit_events(
    session: DbSession,
    _: Admin,
    entity_type: Annotated[SafeQueryText | None, Query(max_length=60)] = None,
    entity_id: Annotated[SafeQueryText | None, Query(max_length=60)] = None,
    action: Annotated[SafeQueryText | None, Query(max_length=80)] = None,
    actor: Annotated[SafeQueryText | None, Query(max_length=120)] = None,
    since: Annotated[PeriodStart | None, Query()] = None,
    until: Annotated[PeriodEnd | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditEventList:
    rows, total = service.list_events(
        session,
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
