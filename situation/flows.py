"""Workflows of the situation domain: ingest observations, compute the picture, decide levels, dispatch reactions."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from alueturva.audit import service as audit
from alueturva.db import Database, get_database, utcnow
from alueturva.errors import Invalid, NotFound
from situation import reactions, service, views
from situation.areas import Area, AreaTree, load_area_tree
from situation.cap import cap_observations
from situation.config import ReactionSpec, ReadinessConfig, rank, readiness_config
from situation.engine import AreaPicture, compute_picture
from situation.models import Reaction, ReadinessDecision
from situation.schemas import (
    CapImportResult,
    DecisionIn,
    DecisionOut,
    IngestResult,
    ObservationIn,
    ReactionOut,
    SnapshotOut,
    StatusReportIn,
    StatusReportOut,
)

log = logging.getLogger(__name__)

REACTION_LEASE = timedelta(minutes=5)
REACTION_MAX_ATTEMPTS = 20
HISTORY_MAX_DAYS = 366


# Observations -------------------------------------------------------------------------------------------------


def _observation_problems(
    index: int, item: ObservationIn, *, tree: AreaTree, config: ReadinessConfig, now: datetime
) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []

    def problem(field: str, message: str) -> None:
        problems.append({"loc": ["body", "observations", index, field], "msg": message, "type": "value_error"})

    indicator = config.indicator_map().get(item.indicator)
    if indicator is None:
        problem("indicator", f"unknown indicator '{item.indicator}'; known: {', '.join(config.indicator_map())}")
    area = tree.areas.get(item.area)
    if area is None:
        problem("area", f"unknown area '{item.area}'; known: {', '.join(tree.areas)}")
    elif indicator is not None and area.kind != indicator.scope:
        problem(
            "area",
            f"indicator '{indicator.key}' is observed per {indicator.scope}, but '{item.area}' is a {area.kind}",
        )
    tolerance = timedelta(seconds=config.observations.future_tolerance_seconds)
    if item.observed_at > now + tolerance:
        problem(
            "observed_at",
            f"observed_at {item.observed_at.isoformat()} is in the future "
            f"(more than {config.observations.future_tolerance_seconds} s after {now.isoformat()})",
        )
    return problems


def ingest_observations(
    session: Session, *, items: list[ObservationIn], actor: str, now: datetime | None = None
) -> IngestResult:
    """Validate every observation first and store none if one is wrong; re-sent (source, source id) are skipped."""
    now = now or utcnow()
    config = readiness_config()
    tree = load_area_tree(session)
    problems = [
        p for i, item in enumerate(items) for p in _observation_problems(i, item, tree=tree, config=config, now=now)
    ]
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
                "received_at": now,
                "reported_by": actor,
            }
        )
    service.insert_observations(session, rows=rows)
    if rows:
        audit.record(
            session,
            actor=actor,
            action="observations.stored",
            entity_type="observation",
            details={"stored": len(rows), "series": len({(r["indicator_key"], r["area_key"]) for r in rows})},
        )
        record_recommendation_changes(session, now=now)
    return IngestResult(received=len(items), stored=len(rows), duplicates=len(items) - len(rows))


# The picture --------------------------------------------------------------------------------------------------


def _compute(session: Session, *, now: datetime) -> tuple[AreaTree, ReadinessConfig, dict[str, AreaPicture]]:
    config = readiness_config()
    tree = load_area_tree(session)
    window = max(config.hysteresis.hold_minutes, config.anticipation.trend_window_minutes)
    # The hysteresis hold needs the values before the clearing began, hence twice the hold.
    since = now - timedelta(minutes=window + config.hysteresis.hold_minutes)
    pictures = compute_picture(
        tree,
        config,
        latest=service.latest_points(session),
        recent=service.recent_points(session, since=since),
        now=now,
        since_lookup=lambda indicator, area, threshold: service.run_start(
            session, indicator=indicator, area_key=area, threshold=threshold
        ),
    )
    return tree, config, pictures


def current_picture(session: Session, *, now: datetime | None = None) -> dict[str, Any]:
    """The whole picture: per area the decided and recommended level, why, the indicators and what is coming."""
    now = now or utcnow()
    tree, config, pictures = _compute(session, now=now)
    decisions = service.current_decisions(session)
    reports = service.latest_status_reports(session)
    names = {key: area.names for key, area in tree.areas.items()}
    areas = [
        views.area_view(area, pictures[area.key], decisions.get(area.key), reports.get(area.key), config, names)
        for area in tree.top_down()
    ]
    return {
        "computed_at": now.isoformat(),
        "levels": [{"key": level.key, "names": level.names.model_dump()} for level in config.levels],
        "differs": [view["key"] for view in areas if view["differs"]],
        "areas": areas,
    }


def record_recommendation_changes(session: Session, *, now: datetime | None = None) -> int:
    """Store a history row for every area whose recommended level differs from the last one stored."""
    now = now or utcnow()
    _, _, pictures = _compute(session, now=now)
    previous = service.latest_recommendations(session)
    rows = [
        {
            "area_key": key,
            "level": picture.recommendation.level,
            "previous_level": previous.get(key),
            "changed_at": now,
            "reasons": [reason.as_dict() for reason in picture.recommendation.reasons],
        }
        for key, picture in pictures.items()
        if previous.get(key, "perusvalmius") != picture.recommendation.level
    ]
    service.add_recommendation_changes(session, rows=rows)
    return len(rows)


def record_recommendations_job() -> int:
    """Periodic: recommendations change with time alone (values go stale, hysteresis holds expire)."""
    with get_database().session() as session:
        return record_recommendation_changes(session)


# Status reports -----------------------------------------------------------------------------------------------


def report_status(session: Session, *, payload: StatusReportIn, actor: str) -> StatusReportOut:
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
    return views.status_report_out(report)


# Decisions and their reactions --------------------------------------------------------------------------------


def _change(previous: str, level: str) -> str:
    if rank(level) > rank(previous):
        return "raised"
    return "lowered" if rank(level) < rank(previous) else "unchanged"


def _rule_matches(rule: ReactionSpec, area: Area, change: str, level: str) -> bool:
    if area.key not in rule.areas and area.kind not in rule.area_kinds:
        return False
    if change == "unchanged" or (rule.when != "changed" and rule.when != change):
        return False
    return rule.level_at_least is None or rank(level) >= rank(rule.level_at_least)


def _expand_groups(groups: list[str], area: Area) -> list[str]:
    expanded: list[str] = []
    for group in groups:
        keys = (
            [group.replace("{municipality}", m) for m in area.municipalities] if "{municipality}" in group else [group]
        )
        expanded.extend(key for key in keys if key not in expanded)
    return expanded


def decide(session: Session, *, payload: DecisionIn, actor: str, now: datetime | None = None) -> DecisionOut:
    """Record a person's decision of an area's level, and the reactions its rules set in motion (in one transaction).

    The reactions are dispatched after the commit (``dispatch_reactions``).
    """
    now = now or utcnow()
    tree, config, pictures = _compute(session, now=now)
    area = tree.get(payload.area)
    current = service.current_decisions(session).get(area.key)
    previous = current.level if current else "perusvalmius"
    change = _change(previous, payload.level)
    decision = service.add_decision(
        session,
        area_key=area.key,
        level=payload.level,
        previous_level=previous,
        recommended_level=pictures[area.key].recommendation.level,
        reason=payload.reason,
        decided_by=actor,
        decided_at=now,
    )
    for rule in config.reactions:
        if _rule_matches(rule, area, change, payload.level):
            service.add_reaction(
                session,
                decision_id=decision.id,
                rule_key=rule.key,
                action="alert",
                payload={"groups": _expand_groups(rule.groups, area)},
                next_attempt_at=now,
                created_at=now,
            )
    audit.record(
        session,
        actor=actor,
        action="readiness.decided",
        entity_type="readiness_decision",
        entity_id=decision.id,
        details={
            "area": area.key,
            "level": payload.level,
            "previous_level": previous,
            "recommended_level": decision.recommended_level,
            "reason": payload.reason,
        },
    )
    return decision_out(session, decision)


def decision_out(session: Session, decision: ReadinessDecision) -> DecisionOut:
    return DecisionOut(
        id=decision.id,
        area=decision.area_key,
        level=decision.level,
        previous_level=decision.previous_level,
        recommended_level=decision.recommended_level,
        change=_change(decision.previous_level, decision.level),
        reason=decision.reason,
        decided_by=decision.decided_by,
        decided_at=decision.decided_at,
        reactions=[_reaction_out(r) for r in service.reactions_of(session, decision_id=decision.id)],
    )


def _reaction_out(reaction: Reaction) -> ReactionOut:
    return ReactionOut(
        id=reaction.id,
        rule=reaction.rule_key,
        action=reaction.action,
        payload=reaction.payload,
        status=reaction.status,
        attempts=reaction.attempts,
        last_error=reaction.last_error,
    )


def get_decision(session: Session, *, decision_id: int) -> DecisionOut:
    decision = service.get_decision(session, decision_id=decision_id)
    if decision is None:
        raise NotFound(f"no readiness decision {decision_id}")
    return decision_out(session, decision)


def _event_for(session: Session, reaction: Reaction) -> reactions.ReactionEvent:
    decision = service.get_decision(session, decision_id=reaction.decision_id)
    assert decision is not None
    config = readiness_config()
    area = load_area_tree(session).areas.get(decision.area_key)
    return reactions.ReactionEvent(
        reaction_id=reaction.id,
        decision_id=decision.id,
        rule=reaction.rule_key,
        action=reaction.action,
        area=decision.area_key,
        area_names=area.names if area else {"fi": decision.area_key},
        level=decision.level,
        level_names=config.level_names()[decision.level].model_dump(),
        previous_level=decision.previous_level,
        change=_change(decision.previous_level, decision.level),
        groups=tuple(reaction.payload.get("groups", [])),
        reason=decision.reason,
        decided_by=decision.decided_by,
    )


def dispatch_reactions(*, database: Database | None = None, now: datetime | None = None) -> int:
    """Hand every due reaction to the registered handlers; returns how many were handled successfully.

    Each reaction is claimed for a lease first, so two dispatchers never handle one reaction at the same time, and
    one that crashed mid-way is taken again when its lease ends.
    """
    database = database or get_database()
    now = now or utcnow()
    with database.session() as session:
        due = service.due_reaction_ids(session, now=now)
    return sum(_dispatch_one(database, reaction_id, now=now) for reaction_id in due)


def _dispatch_one(database: Database, reaction_id: int, *, now: datetime) -> bool:
    with database.session() as session:
        if not service.claim_reaction(session, reaction_id=reaction_id, now=now, lease=REACTION_LEASE):
            return False
        reaction = service.get_reaction(session, reaction_id=reaction_id)
        assert reaction is not None
        session.refresh(reaction)
        handlers = reactions.handlers()
        if not handlers:
            reaction.status = "unhandled"
            reaction.claimed_until = None
            reaction.completed_at = now
            log.info("reaction recorded; no handler registered", extra={"reaction_id": reaction_id})
            return False
        event = _event_for(session, reaction)
    errors = []
    for handler in handlers:
        try:
            handler(event)
        except Exception as exc:
            log.warning("reaction handler failed", extra={"reaction_id": reaction_id, "error": type(exc).__name__})
            errors.append(f"{getattr(handler, '__name__', 'handler')}: {type(exc).__name__}: {exc}")
    with database.session() as session:
        reaction = service.get_reaction(session, reaction_id=reaction_id)
        assert reaction is not None
        reaction.attempts += 1
        reaction.claimed_until = None
        if not errors:
            reaction.status = "done"
            reaction.completed_at = utcnow()
            reaction.last_error = None
            return True
        reaction.last_error = "; ".join(errors)[:1000]
        if reaction.attempts >= REACTION_MAX_ATTEMPTS:
            reaction.status = "failed"
            log.error("reaction gave up", extra={"reaction_id": reaction_id, "attempts": reaction.attempts})
        else:
            reaction.next_attempt_at = now + timedelta(seconds=min(30 * 2 ** (reaction.attempts - 1), 3600))
        return False


def dispatch_reactions_job() -> int:
    """Queue job and periodic task: dispatch due reactions."""
    return dispatch_reactions()


# Snapshots and history ----------------------------------------------------------------------------------------


def take_snapshot(session: Session, *, label: str, actor: str, now: datetime | None = None) -> SnapshotOut:
    now = now or utcnow()
    picture = current_picture(session, now=now)
    snapshot = service.add_snapshot(session, label=label, taken_at=now, taken_by=actor, picture=picture)
    audit.record(
        session,
        actor=actor,
        action="situation.snapshot_taken",
        entity_type="situation_snapshot",
        entity_id=snapshot.id,
        details={"label": label},
    )
    return SnapshotOut(
        id=snapshot.id, label=snapshot.label, taken_at=snapshot.taken_at, taken_by=actor, picture=picture
    )


def get_snapshot(session: Session, *, snapshot_id: int) -> SnapshotOut:
    snapshot = service.get_snapshot(session, snapshot_id=snapshot_id)
    if snapshot is None:
        raise NotFound(f"no situation snapshot {snapshot_id}")
    return SnapshotOut(
        id=snapshot.id,
        label=snapshot.label,
        taken_at=snapshot.taken_at,
        taken_by=snapshot.taken_by,
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
        "decisions": [
            {
                "id": d.id,
                "area": d.area_key,
                "level": d.level,
                "previous_level": d.previous_level,
                "recommended_level": d.recommended_level,
                "reason": d.reason,
                "decided_by": d.decided_by,
                "decided_at": d.decided_at.isoformat(),
            }
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


# CAP import ---------------------------------------------------------------------------------------------------


def import_cap(session: Session, *, document: bytes, actor: str, now: datetime | None = None) -> CapImportResult:
    """Store the observations a CAP 1.2 warning gives for our municipalities (idempotent per identifier)."""
    now = now or utcnow()
    rules = readiness_config().cap
    if rules is None:
        raise Invalid("CAP import is not configured: add a 'cap' section to config/readiness.yaml")
    parsed = cap_observations(document, rules=rules, now=now)
    result = IngestResult(received=0, stored=0, duplicates=0)
    if parsed.observations:
        result = ingest_observations(session, items=parsed.observations, actor=actor, now=now)
    return CapImportResult(
        **result.model_dump(),
        identifier=parsed.identifier,
        matched_areas=parsed.matched_areas,
        unmatched_areas=parsed.unmatched_areas,
    )
