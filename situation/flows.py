"""Workflows of the situation domain: the picture (recommended levels and their history) and status reports.

Observations come in through ``situation.observations``, decisions through ``situation.decisions``; their reactions
go out through ``situation.reactions``; frozen pictures and the past are in ``situation.history``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from alueturva.audit import service as audit
from alueturva.auth.service import actor_names
from alueturva.db import get_database, utcnow
from alueturva.errors import Invalid
from situation import exercises, read, service
from situation.areas import AreaTree, load_area_tree
from situation.config import IndicatorSpec, ReadinessConfig, readiness_config
from situation.engine import (
    AreaPicture,
    Recommendation,
    SinceLookup,
    compute_picture,
    compute_recommendations,
    may_be_held,
    with_since,
)
from situation.schemas import StatusReportIn, StatusReportOut

# The picture --------------------------------------------------------------------------------------------------


def compute_pictures(
    session: Session, *, now: datetime, drill_id: int | None = None
) -> tuple[AreaTree, ReadinessConfig, dict[str, AreaPicture]]:
    """Each area's recommendation now: from the real observations, or in a drill's exercise picture from the real
    ones and the drill's."""
    config = readiness_config()
    tree = load_area_tree(session)
    pictures = compute_picture(
        tree,
        config,
        latest=service.latest_points(session, drill_id=drill_id),
        recent=service.recent_points(session, since=_recent_since(config, now), drill_id=drill_id),
        now=now,
        since_lookup=lambda indicator, area, threshold: service.run_start(
            session, indicator=indicator, area_key=area, threshold=threshold, drill_id=drill_id
        ),
    )
    return tree, config, pictures


def _recent_since(config: ReadinessConfig, now: datetime) -> datetime:
    """The start of the recent values the picture reads: the trend window or the hysteresis hold, whichever is
    longer, and one hold more (the hold needs the values before the clearing began)."""
    window = max(config.hysteresis.hold_minutes, config.anticipation.trend_window_minutes)
    return now - timedelta(minutes=window + config.hysteresis.hold_minutes)


def current_recommendations(
    session: Session, *, tree: AreaTree, config: ReadinessConfig, now: datetime
) -> dict[str, Recommendation]:
    """Each area's recommendation in the real picture, as ``compute_pictures`` makes it but without the reasons'
    ``since``: the latest values, and the recent values only of the series hysteresis may hold (the lowest and the
    highest recent value of each series, added up in the database, tell which)."""
    latest = service.latest_points(session)
    since = _recent_since(config, now)
    indicators = config.indicator_map()
    held = {
        key
        for key, extremes in service.recent_extremes(session, since=since).items()
        if key[0] in indicators and may_be_held(indicators[key[0]], latest.get(key), extremes, now=now)
    }
    recent = service.recent_points(session, since=since, only=held) if held else {}
    return compute_recommendations(tree, config, latest=latest, recent=recent, now=now)


def current_picture(session: Session, *, now: datetime | None = None, drill_id: int | None = None) -> dict[str, Any]:
    """The whole picture: per area the decided and recommended level, why, the indicators and what is coming.

    With ``drill_id``, the drill's exercise picture: its own observations and decisions over the real ones, labelled.
    """
    now = now or utcnow()
    exercise = exercises.existing_exercise(session, drill_id) if drill_id is not None else None
    tree, config, pictures = compute_pictures(session, now=now, drill_id=drill_id)
    decisions = service.current_decisions(session, drill_id=drill_id)
    reports = service.latest_status_reports(session)
    names = {key: area.names for key, area in tree.areas.items()}
    deciders = actor_names(session, (decision.decided_by for decision in decisions.values()))
    areas = [
        read.area_view(
            area, pictures[area.key], decisions.get(area.key), reports.get(area.key), config, names, deciders
        )
        for area in tree.top_down()
    ]
    return {
        "computed_at": now.isoformat(),
        "levels": [{"key": level.key, "names": level.names.model_dump()} for level in config.levels],
        "differs": [view["key"] for view in areas if view["differs"]],
        "areas": areas,
        "exercise": None if exercise is None else {"drill_id": exercise.drill_id, "name": exercise.name},
    }


def record_recommendation_changes(
    session: Session, *, now: datetime | None = None, tree: AreaTree | None = None
) -> int:
    """Store a history row for every area whose recommended level differs from the last one stored (a level that
    becomes unknown, for want of fresh data, is a change too; an area never known is not recorded). ``tree``: the
    areas, when the caller has loaded them already."""
    now = now or utcnow()
    config = readiness_config()
    tree = tree if tree is not None else load_area_tree(session)
    recommendations = current_recommendations(session, tree=tree, config=config, now=now)
    previous = service.latest_recommendations(session)
    changed = {
        key: recommendation
        for key, recommendation in recommendations.items()
        if (previous[key] != recommendation.level if key in previous else recommendation.level)
    }
    since_lookup = _run_starts(session)
    indicators = config.indicator_map()
    rows = [
        {
            "area_key": key,
            "level": recommendation.level,
            "previous_level": previous.get(key),
            "changed_at": now,
            "reasons": [with_since(reason, indicators, since_lookup).as_dict() for reason in recommendation.reasons],
        }
        for key, recommendation in changed.items()
    ]
    service.add_recommendation_changes(session, rows=rows)
    return len(rows)


def _run_starts(session: Session) -> SinceLookup:
    """``service.run_start`` in the real picture, each (indicator, area, threshold) looked up once (an indicator of
    the region is a reason in every area)."""
    found: dict[tuple[str, str, float], datetime | None] = {}

    def run_start(indicator: IndicatorSpec, area_key: str, threshold: float) -> datetime | None:
        key = (indicator.key, area_key, threshold)
        if key not in found:
            found[key] = service.run_start(session, indicator=indicator, area_key=area_key, threshold=threshold)
        return found[key]

    return run_start


def record_recommendations_job() -> int:
    """Periodic: recommendations change with time alone (values go stale, hysteresis holds expire)."""
    with get_database().session() as session:
        return record_recommendation_changes(session)


def report_status(*, payload: StatusReportIn, actor: str) -> StatusReportOut:
    """A municipality's own status report, in a transaction of its own."""
    with get_database().session() as session:
        return _report_status(session, payload=payload, actor=actor)


def _report_status(session: Session, *, payload: StatusReportIn, actor: str) -> StatusReportOut:
    area = load_area_tree(session).get(payload.municipality)
    if area.kind != "municipality":
        raise Invalid(f"'{payload.municipality}' is a {area.kind}; a status report is made by a municipality")
    report = service.add_status_report(
        session,
        area_key=area.key,
        management_group_convened=payload.management_group_convened,
        staff_availability_percent=payload.staff_availability_percent,
        key_services_running=payload.key_services_running,
        services_note=payload.services_note,
        reporter_name=payload.reporter_name,
        reported_by=actor,
    )
    audit.record(
        session,
        actor=actor,
        action="situation.status_reported",
        entity_type="municipality_status_report",
        entity_id=report.id,
        details={"municipality": area.key, "management_group_convened": payload.management_group_convened},
    )
    return read.status_report_out(report)
