"""The past of the picture: snapshots frozen on purpose (exercises refer to them) and history over a period."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from alueturva.audit import service as audit
from alueturva.db import get_database, utcnow
from alueturva.errors import Invalid, NotFound
from situation import exercises, service
from situation.areas import load_area_tree
from situation.config import readiness_config
from situation.flows import current_picture
from situation.models import Snapshot
from situation.read import decision_read
from situation.schemas import SnapshotOut

HISTORY_MAX_DAYS = 366


def take_snapshot(*, label: str, actor: str, drill_id: int | None = None) -> SnapshotOut:
    """Freeze the picture as it is now, in a transaction of its own: the real one, or a running drill's exercise
    picture."""
    with get_database().session() as session:
        return freeze_picture(session, label=label, actor=actor, now=utcnow(), drill_id=drill_id)


def freeze_picture(
    session: Session, *, label: str, actor: str, now: datetime, drill_id: int | None = None
) -> SnapshotOut:
    """Freeze the picture in the caller's transaction (a drill's phase freezes its exercise picture as it starts)."""
    if drill_id is not None:
        exercises.running_exercise(session, drill_id)
    picture = current_picture(session, now=now, drill_id=drill_id)
    snapshot = service.add_snapshot(
        session, label=label, taken_at=now, taken_by=actor, picture=picture, drill_id=drill_id
    )
    audit.record(
        session,
        actor=actor,
        action="situation.snapshot_taken",
        entity_type="situation_snapshot",
        entity_id=snapshot.id,
        details={"label": label, "drill_id": drill_id},
    )
    return _snapshot_out(snapshot)


def get_snapshot(session: Session, *, snapshot_id: int) -> SnapshotOut:
    snapshot = service.get_snapshot(session, snapshot_id=snapshot_id)
    if snapshot is None:
        raise NotFound(f"no situation snapshot {snapshot_id}")
    return _snapshot_out(snapshot)


def _snapshot_out(snapshot: Snapshot) -> SnapshotOut:
    return SnapshotOut(
        id=snapshot.id,
        label=snapshot.label,
        taken_at=snapshot.taken_at,
        taken_by=snapshot.taken_by,
        drill_id=snapshot.drill_id,
        picture=snapshot.picture,
    )


def history(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    area: str | None,
    indicator: str | None,
    limit: int,
) -> dict[str, Any]:
    """Decided and recommended levels and observations between ``start`` and ``end``."""
    if end <= start:
        raise Invalid(f"'to' ({end.isoformat()}) must be after 'from' ({start.isoformat()})")
    if end - start > timedelta(days=HISTORY_MAX_DAYS):
        raise Invalid(f"the period may be at most {HISTORY_MAX_DAYS} days; ask for a shorter one")
    if indicator is not None and indicator not in readiness_config().indicator_map():
        raise Invalid(f"unknown indicator '{indicator}'")
    tree = load_area_tree(session)
    level_areas: list[str] | None = None
    series_areas: list[str] | None = None
    if area is not None:
        tree.get(area)
        level_areas = [area]
        series_areas = sorted(
            set(tree.lineage(area)) | {a.key for a in tree.areas.values() if area in tree.lineage(a.key)}
        )
    observations, total = service.observations_between(
        session, start=start, end=end, area_keys=series_areas, indicator_key=indicator, limit=limit
    )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "decisions": [  # as HistoryDecision shows them
            decision_read(d).model_dump()
            for d in service.decisions_between(session, start=start, end=end, area_keys=level_areas)
        ],
        "recommendations": [
            {
                "area": r.area_key,
                "level": r.level,
                "previous_level": r.previous_level,
                "changed_at": r.changed_at.isoformat(),
                "reasons": r.reasons,
            }
            for r in service.recommendation_changes_between(session, start=start, end=end, area_keys=level_areas)
        ],
        "observations": {
            "items": [
                {
                    "id": o.id,
                    "indicator": o.indicator_key,
                    "area": o.area_key,
                    "value": o.value,
                    "observed_at": o.observed_at.isoformat(),
                    "source": o.source,
                    "source_id": o.source_id,
                }
                for o in observations
            ],
            "total": total,
        },
    }
