"""After the drill: strengths, areas for improvement and the improvement plan, whose items stay open across drills
until someone closes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alueturva.audit import service as audit
from alueturva.db import get_database, utcnow
from alueturva.errors import Conflict, Invalid, NotFound
from contacts.models import Organisation
from drills import service
from drills.models import Drill, DrillFinding, FindingKind, ImprovementItem, ItemStatus
from drills.schemas import FindingIn, FindingRead, ImprovementItemIn, ImprovementItemRead, ImprovementItemUpdate

CLOSED = (ItemStatus.done, ItemStatus.dropped)


def _after_start(session: Session, drill_id: int) -> None:
    drill = service.get_drill(session, drill_id=drill_id)
    if drill.started_at is None:
        raise Conflict(f"drill {drill_id} is {drill.state.value}; findings are written once it has been held")


def _check_organisation(session: Session, organisation_id: int | None) -> None:
    if organisation_id is not None and session.get(Organisation, organisation_id) is None:
        raise Invalid(f"organisation_id: no organisation {organisation_id}")


def add_finding(*, drill_id: int, payload: FindingIn, actor: str) -> FindingRead:
    """A strength or an area for improvement of a drill that has been held."""
    with get_database().session() as session:
        return FindingRead.model_validate(_add_finding(session, drill_id=drill_id, payload=payload, actor=actor))


def _add_finding(session: Session, *, drill_id: int, payload: FindingIn, actor: str) -> DrillFinding:
    _after_start(session, drill_id)
    drill = service.get_drill(session, drill_id=drill_id)
    if payload.objective is not None and payload.objective not in {o.position for o in drill.objectives}:
        raise Invalid(f"objective: drill {drill_id} has no objective {payload.objective}")
    finding = DrillFinding(
        drill_id=drill_id, kind=FindingKind(payload.kind), text=payload.text, objective=payload.objective,
        recorded_by=actor,
    )  # fmt: skip
    session.add(finding)
    session.flush()
    audit.record(
        session, actor=actor, action="drill.finding", entity_type="drill", entity_id=drill_id,
        details={"finding_id": finding.id, "kind": payload.kind},
    )  # fmt: skip
    return finding


def findings_of(session: Session, *, drill_id: int) -> Sequence[DrillFinding]:
    return session.scalars(
        select(DrillFinding).where(DrillFinding.drill_id == drill_id).order_by(DrillFinding.id)
    ).all()


def add_item(*, drill_id: int, payload: ImprovementItemIn, actor: str) -> ImprovementItemRead:
    """An item of the improvement plan, found in a drill that has been held."""
    with get_database().session() as session:
        item = _add_item(session, drill_id=drill_id, payload=payload, actor=actor)
        return _read_item(session, item)


def _add_item(session: Session, *, drill_id: int, payload: ImprovementItemIn, actor: str) -> ImprovementItem:
    _after_start(session, drill_id)
    _check_organisation(session, payload.organisation_id)
    if payload.finding_id is not None:
        finding = session.get(DrillFinding, payload.finding_id)
        if finding is None or finding.drill_id != drill_id:
            raise Invalid(f"finding_id: drill {drill_id} has no finding {payload.finding_id}")
    item = ImprovementItem(drill_id=drill_id, status=ItemStatus.open, created_by=actor, **payload.model_dump())
    session.add(item)
    session.flush()
    audit.record(
        session, actor=actor, action="improvement_item.create", entity_type="improvement_item", entity_id=item.id,
        details={"drill_id": drill_id, "organisation_id": payload.organisation_id, "due": str(payload.due)},
    )  # fmt: skip
    return item


def update_item(
    *, item_id: int, payload: ImprovementItemUpdate, actor: str, drill_id: int | None = None
) -> ImprovementItemRead:
    """Move an item on or change it; with ``drill_id``, only an item of that drill (another is not found)."""
    with get_database().session() as session:
        item = session.get(ImprovementItem, item_id)
        if item is None or drill_id not in (None, item.drill_id):
            raise NotFound(f"no improvement item {item_id}" + (f" in drill {drill_id}" if drill_id else ""))
        _update_item(session, item=item, payload=payload, actor=actor, now=utcnow())
        return _read_item(session, item)


def _read_item(session: Session, item: ImprovementItem) -> ImprovementItemRead:
    (shown,) = [row for row in items(session, drill_id=item.drill_id) if row.id == item.id]
    return shown


def _update_item(
    session: Session, *, item: ImprovementItem, payload: ImprovementItemUpdate, actor: str, now: datetime
) -> None:
    changes = payload.model_dump(exclude_unset=True)
    if "organisation_id" in changes:
        _check_organisation(session, changes["organisation_id"])
    if "status" in changes and changes["status"] is None:
        raise Invalid("status cannot be null; leave it out to keep it")
    for field, value in changes.items():
        setattr(item, field, ItemStatus(value) if field == "status" else value)
    if item.status in CLOSED and item.closed_at is None:
        item.closed_at, item.closed_by = now, actor
    elif item.status not in CLOSED:
        item.closed_at, item.closed_by = None, None
    session.flush()
    audit.record(
        session, actor=actor, action="improvement_item.update", entity_type="improvement_item", entity_id=item.id,
        details={"fields": sorted(changes), "status": item.status.value},
    )  # fmt: skip


def items(
    session: Session,
    *,
    status: Sequence[ItemStatus] | None = None,
    drill_id: int | None = None,
    held_before: datetime | None = None,
    not_of: int | None = None,
) -> list[ImprovementItemRead]:
    """Improvement items (by status, of one drill, or of drills held before a moment), soonest due first."""
    query = (
        select(ImprovementItem, Drill.name, Organisation.short_name)
        .join(Drill, Drill.id == ImprovementItem.drill_id)
        .outerjoin(Organisation, Organisation.id == ImprovementItem.organisation_id)
    )
    if status is not None:
        query = query.where(ImprovementItem.status.in_(list(status)))
    if drill_id is not None:
        query = query.where(ImprovementItem.drill_id == drill_id)
    if not_of is not None:
        query = query.where(ImprovementItem.drill_id != not_of)
    if held_before is not None:
        query = query.where(Drill.started_at < held_before)
    rows = session.execute(query.order_by(ImprovementItem.due.is_(None), ImprovementItem.due, ImprovementItem.id))
    return [item_read(item, drill_name, organisation) for item, drill_name, organisation in rows]


def item_read(item: ImprovementItem, drill_name: str, organisation: str | None) -> ImprovementItemRead:
    return ImprovementItemRead(
        id=item.id,
        drill_id=item.drill_id,
        drill_name=drill_name,
        text=item.text,
        action=item.action,
        organisation_id=item.organisation_id,
        organisation=organisation,
        due=item.due,
        status=item.status.value,
        created_by=item.created_by,
        created_at=item.created_at,
        closed_at=item.closed_at,
        note=item.note,
    )


def still_open_from_earlier(session: Session, *, drill_id: int) -> list[ImprovementItemRead]:
    """Items of drills held before this one that nobody has closed yet."""
    drill = service.get_drill(session, drill_id=drill_id)
    return items(
        session, status=[ItemStatus.open, ItemStatus.in_progress], held_before=drill.started_at, not_of=drill_id
    )
