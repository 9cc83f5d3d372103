"""Data access of the drills domain (keyword-only functions taking a session)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from alueturva.errors import NotFound
from drills.models import Drill, DrillAlert, DrillAlertPurpose, DrillImport, DrillObservation, DrillState
from situation.exercises import Exercise

MEASURED_PURPOSES = (DrillAlertPurpose.alert, DrillAlertPurpose.reach_question)


def get_drill(session: Session, *, drill_id: int) -> Drill:
    drill = session.scalar(
        select(Drill).where(Drill.id == drill_id).options(selectinload(Drill.objectives), selectinload(Drill.phases))
    )
    if drill is None:
        raise NotFound(f"no drill {drill_id}")
    return drill


def list_drills(
    session: Session, *, limit: int, offset: int, state: str | None = None, kind: str | None = None
) -> tuple[Sequence[Drill], int]:
    query = select(Drill)
    if state is not None:
        query = query.where(Drill.state == state)
    if kind is not None:
        query = query.where(Drill.kind == kind)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Drill.id.desc()).limit(limit).offset(offset)).all()
    return rows, total


def drill_alerts(session: Session, *, drill_id: int) -> Sequence[DrillAlert]:
    return session.scalars(select(DrillAlert).where(DrillAlert.drill_id == drill_id).order_by(DrillAlert.id)).all()


def measured_alert_ids(session: Session, *, drill_id: int) -> list[int]:
    """The alerts whose recipients the objectives measure: the drill's alert, phases' alerts and reach question."""
    return list(
        session.scalars(
            select(DrillAlert.alert_id)
            .where(
                DrillAlert.drill_id == drill_id,
                DrillAlert.alert_id.is_not(None),
                DrillAlert.purpose.in_(MEASURED_PURPOSES),
            )
            .order_by(DrillAlert.id)
        )
    )


def add_drill_alert(session: Session, **fields: Any) -> DrillAlert:
    row = DrillAlert(**fields)
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class PendingAlert:
    """An outbox row whose alert is not made yet, with what making it needs."""

    id: int
    request: dict[str, Any]
    actor: str


def pending_drill_alerts(session: Session, *, max_attempts: int, drill_id: int | None = None) -> list[PendingAlert]:
    """Outbox rows whose alert is not made yet and that have not used up their attempts; the actor is whoever
    started the drill (the scheduler when nobody did)."""
    query = (
        select(DrillAlert.id, DrillAlert.request, Drill.started_by)
        .join(Drill, Drill.id == DrillAlert.drill_id)
        .where(DrillAlert.alert_id.is_(None), DrillAlert.attempts < max_attempts)
    )
    if drill_id is not None:
        query = query.where(DrillAlert.drill_id == drill_id)
    return [
        PendingAlert(row.id, row.request, row.started_by or "scheduler")
        for row in session.execute(query.order_by(DrillAlert.id))
    ]


def record_alert_made(session: Session, *, row_id: int, alert_id: int) -> None:
    session.execute(update(DrillAlert).where(DrillAlert.id == row_id).values(alert_id=alert_id, last_error=None))


def record_alert_failure(session: Session, *, row_id: int, error: str, give_up: bool, max_attempts: int) -> None:
    """A failed try: counted, or all attempts used up at once when trying again cannot help (a refused alert)."""
    attempts = max_attempts if give_up else DrillAlert.attempts + 1
    session.execute(
        update(DrillAlert).where(DrillAlert.id == row_id).values(attempts=attempts, last_error=error[:1000])
    )


def observations_of(session: Session, *, drill_id: int) -> Sequence[DrillObservation]:
    return session.scalars(
        select(DrillObservation)
        .where(DrillObservation.drill_id == drill_id)
        .order_by(DrillObservation.at, DrillObservation.id)
    ).all()


def runs_of(session: Session, *, series_id: int) -> list[int]:
    return list(
        session.scalars(select(Drill.id).where(Drill.series_id == series_id).order_by(Drill.occurrence_at.desc()))
    )


def latest_occurrence(session: Session, *, series_id: int) -> datetime | None:
    return session.scalar(select(func.max(Drill.occurrence_at)).where(Drill.series_id == series_id))


def move_state(session: Session, *, drill: Drill, from_states: Sequence[DrillState], **values: Any) -> bool:
    """Atomically move a drill on from one of ``from_states`` (a conditional UPDATE: when two processes try, one
    moves it); False if another did it first. The loaded ``drill`` gets the new values without being read again."""
    result = session.execute(
        update(Drill)
        .where(Drill.id == drill.id, Drill.state.in_(list(from_states)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    moved = bool(getattr(result, "rowcount", 0) == 1)
    if moved:
        for key, value in values.items():
            set_committed_value(drill, key, value)
    return moved


def planned_once_due(session: Session, *, now: datetime) -> list[int]:
    return list(
        session.scalars(
            select(Drill.id)
            .where(
                Drill.state == DrillState.planned,
                Drill.cron.is_(None),
                Drill.start_at.is_not(None),
                Drill.start_at <= now,
            )
            .order_by(Drill.start_at, Drill.id)
        )
    )


def recurring_plans(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(Drill.id).where(Drill.state == DrillState.planned, Drill.cron.is_not(None)).order_by(Drill.id)
        )
    )


def running_due_to_end(session: Session, *, now: datetime) -> list[int]:
    return list(
        session.scalars(
            select(Drill.id)
            .where(Drill.state == DrillState.running, Drill.ends_at.is_not(None), Drill.ends_at <= now)
            .order_by(Drill.id)
        )
    )


def exercise_of(session: Session, drill_id: int) -> Exercise | None:
    """The situation domain's view of a drill (``situation.exercises``)."""
    row = session.execute(select(Drill.name, Drill.state).where(Drill.id == drill_id)).first()
    if row is None:
        return None
    return Exercise(drill_id=drill_id, name=row.name, running=row.state is DrillState.running)


def imports_of(session: Session, *, drill_id: int) -> Sequence[DrillImport]:
    return session.scalars(select(DrillImport).where(DrillImport.drill_id == drill_id).order_by(DrillImport.id)).all()


def imported_from(session: Session, *, drill_id: int) -> dict[str, Any] | None:
    """Where an imported drill's figures come from: its first log file (name, SHA-256, mapping) and every file
    imported into it; ``None`` for a drill run here."""
    files = [
        {
            "source": row.source,
            "sha256": row.sha256,
            "mapping": row.mapping.get("name"),
            "rows": row.rows,
            "events": row.events,
            "imported_at": row.imported_at,
            "imported_by": row.imported_by,
        }
        for row in imports_of(session, drill_id=drill_id)
    ]
    if not files:
        return None
    first = files[0]
    return {"source": first["source"], "sha256": first["sha256"], "mapping": first["mapping"], "files": files}
