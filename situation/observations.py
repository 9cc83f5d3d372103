"""Observations coming in: validated all together, stored once per (source, source id); CAP warnings as observations."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from alueturva.audit import service as audit
from alueturva.db import get_database, utcnow
from alueturva.errors import Invalid
from situation import exercises, service
from situation.areas import AreaTree, load_area_tree
from situation.cap import cap_observations
from situation.config import ReadinessConfig, readiness_config
from situation.flows import record_recommendation_changes
from situation.schemas import CapImportResult, IngestResult, ObservationIn


def _problems(
    items: list[ObservationIn], *, tree: AreaTree, config: ReadinessConfig, now: datetime
) -> list[dict[str, Any]]:
    """Every problem of every observation, in order (the configuration's lookups made once for all of them)."""
    indicators = config.indicator_map()
    tolerance = config.observations.future_tolerance_seconds
    latest_allowed = now + timedelta(seconds=tolerance)
    problems: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        indicator = indicators.get(item.indicator)
        if indicator is None:
            message = f"unknown indicator '{item.indicator}'; known: {', '.join(indicators)}"
            problems.append(_problem(index, "indicator", message))
        area = tree.areas.get(item.area)
        if area is None:
            problems.append(_problem(index, "area", f"unknown area '{item.area}'; known: {', '.join(tree.areas)}"))
        elif indicator is not None and area.kind != indicator.scope:
            message = (
                f"indicator '{indicator.key}' is observed per {indicator.scope}, but '{item.area}' is a {area.kind}"
            )
            problems.append(_problem(index, "area", message))
        if item.observed_at > latest_allowed:
            message = (
                f"observed_at {item.observed_at.isoformat()} is in the future "
                f"(more than {tolerance} s after {now.isoformat()})"
            )
            problems.append(_problem(index, "observed_at", message))
    return problems


def _problem(index: int, field: str, message: str) -> dict[str, Any]:
    return {"loc": ["body", "observations", index, field], "msg": message, "type": "value_error"}


def ingest_observations(
    *, items: list[ObservationIn], actor: str, now: datetime | None = None, drill_id: int | None = None
) -> IngestResult:
    """Validate every observation first and store none if one is wrong; re-sent (source, source id) are skipped.
    In a transaction of its own.

    With ``drill_id`` they are that running drill's exercise observations: its exercise picture shows them, the real
    picture never does.
    """
    with get_database().session() as session:
        return ingest(session, items=items, actor=actor, now=now or utcnow(), drill_id=drill_id)


def ingest(
    session: Session, *, items: list[ObservationIn], actor: str, now: datetime, drill_id: int | None = None
) -> IngestResult:
    """``ingest_observations`` as a step of a larger transaction (the demo's picture, stored whole or not at all)."""
    if drill_id is not None:
        exercises.running_exercise(session, drill_id)
    config = readiness_config()
    tree = load_area_tree(session)
    problems = _problems(items, tree=tree, config=config, now=now)
    if problems:
        raise Invalid(problems)
    known = service.known_source_ids(
        session, pairs=[(item.source, item.source_id) for item in items if item.source_id is not None]
    )
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set(known)
    for item in items:
        if item.source_id is not None:
            if (item.source, item.source_id) in seen:
                continue
            seen.add((item.source, item.source_id))
        rows.append(
            {
                "indicator_key": item.indicator,
                "area_key": item.area,
                "value": item.value,
                "observed_at": item.observed_at,
                "source": item.source,
                "source_id": item.source_id,
            }
        )
    service.insert_observations(session, rows=rows, received_at=now, reported_by=actor, drill_id=drill_id)
    if rows:
        audit.record(
            session,
            actor=actor,
            action="observations.stored" if drill_id is None else "observations.exercise_stored",
            entity_type="observation",
            details={
                "stored": len(rows),
                "series": len({(r["indicator_key"], r["area_key"]) for r in rows}),
                "drill_id": drill_id,
            },
        )
        if drill_id is None:
            record_recommendation_changes(session, now=now, tree=tree)
    return IngestResult(received=len(items), stored=len(rows), duplicates=len(items) - len(rows))


def import_cap(*, document: bytes, actor: str, now: datetime | None = None) -> CapImportResult:
    """Store the observations a CAP 1.2 warning gives for our municipalities (idempotent per identifier), in a
    transaction of its own."""
    now = now or utcnow()
    rules = readiness_config().cap
    if rules is None:
        raise Invalid("CAP import is not configured: add a 'cap' section to config/readiness.yaml")
    parsed = cap_observations(document, rules=rules, now=now)
    result = IngestResult(received=0, stored=0, duplicates=0)
    if parsed.observations:
        result = ingest_observations(items=parsed.observations, actor=actor, now=now)
    return CapImportResult(
        **result.model_dump(),
        identifier=parsed.identifier,
        matched_areas=parsed.matched_areas,
        unmatched_areas=parsed.unmatched_areas,
    )
