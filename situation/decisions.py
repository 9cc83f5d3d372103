"""Readiness decisions: a person decides an area's level with a reason; the rules it matches become reactions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from alueturva.audit import service as audit
from alueturva.db import get_database, utcnow
from alueturva.errors import NotFound
from situation import exercises, reactions, service
from situation.areas import Area, load_area_tree
from situation.config import BASE_LEVEL, ReactionSpec, ReadinessConfig, change_between, rank, readiness_config
from situation.flows import compute_pictures
from situation.models import Reaction, ReadinessDecision
from situation.read import decision_read
from situation.schemas import DecisionIn, DecisionOut, DecisionPreview, ReactionOut


def _rule_matches(rule: ReactionSpec, area: Area, change: str, level: str) -> bool:
    if area.key not in rule.areas and area.kind not in rule.area_kinds:
        return False
    if change == "unchanged" or (rule.when != "changed" and rule.when != change):
        return False
    return rule.level_at_least is None or rank(level) >= rank(rule.level_at_least)


def expand_groups(groups: list[str], area: Area) -> list[str]:
    expanded: list[str] = []
    for group in groups:
        keys = (
            [group.replace("{municipality}", m) for m in area.municipalities] if "{municipality}" in group else [group]
        )
        expanded.extend(key for key in keys if key not in expanded)
    return expanded


def _planned_reactions(config: ReadinessConfig, area: Area, change: str, level: str) -> list[tuple[str, list[str]]]:
    """(rule key, group keys) of each reaction rule the decision matches."""
    return [
        (rule.key, expand_groups(rule.groups, area))
        for rule in config.reactions
        if _rule_matches(rule, area, change, level)
    ]


def _previous_level(session: Session, area_key: str, drill_id: int | None) -> str:
    current = service.current_decisions(session, drill_id=drill_id).get(area_key)
    return current.level if current else BASE_LEVEL


def preview(session: Session, *, payload: DecisionIn) -> DecisionPreview:
    """What the decision would set in motion, before it is made: for a real decision, how many people its reaction
    rules would alert (a drill's decision alerts the drill's own targets, as an exercise)."""
    if payload.drill_id is not None:
        exercises.running_exercise(session, payload.drill_id)
    area = load_area_tree(session).get(payload.area)
    previous = _previous_level(session, area.key, payload.drill_id)
    change = change_between(previous, payload.level)
    planned = _planned_reactions(readiness_config(), area, change, payload.level)
    groups = sorted({group for _, rule_groups in planned for group in rule_groups})
    return DecisionPreview(
        area=area.key,
        level=payload.level,
        previous_level=previous,
        change=change,
        drill_id=payload.drill_id,
        reaction_rules=[rule for rule, _ in planned],
        groups=groups,
        people=0 if payload.drill_id is not None else service.people_in_groups(session, group_keys=groups),
    )


def decide(*, payload: DecisionIn, actor: str, now: datetime | None = None) -> DecisionOut:
    """A person decides an area's level: the API's and the command line's one call. In one transaction the decision
    and the reactions its rules set in motion are recorded; after the commit the reactions are dispatched
    (``situation.reactions``), so the answer lists the alerts they sent; one that fails is retried by the scheduler.
    """
    with get_database().session() as session:
        decision = record_decision(session, payload=payload, actor=actor, now=now)
    if not decision.reactions:
        return decision
    reactions.dispatch_reactions(decision_id=decision.id)
    with get_database().session() as session:
        return get_decision(session, decision_id=decision.id)


def record_decision(session: Session, *, payload: DecisionIn, actor: str, now: datetime | None = None) -> DecisionOut:
    """Record the decision and its reactions in the caller's transaction (nothing is dispatched).

    A decision in a drill (``payload.drill_id``) is an exercise decision: the drill must be running; the level it sets
    is the drill's exercise level, never the real one.
    """
    now = now or utcnow()
    drill_id = payload.drill_id
    if drill_id is not None:
        exercises.running_exercise(session, drill_id)
    tree, config, pictures = compute_pictures(session, now=now, drill_id=drill_id)
    area = tree.get(payload.area)
    previous = _previous_level(session, area.key, drill_id)
    change = change_between(previous, payload.level)
    decision = service.add_decision(
        session,
        area_key=area.key,
        level=payload.level,
        previous_level=previous,
        recommended_level=pictures[area.key].recommendation.level,
        reason=payload.reason,
        decided_by=actor,
        decided_at=now,
        drill_id=drill_id,
    )
    for rule_key, groups in _planned_reactions(config, area, change, payload.level):
        service.add_reaction(
            session,
            decision_id=decision.id,
            rule_key=rule_key,
            action="alert",
            payload={"groups": groups},
            next_attempt_at=now,
            created_at=now,
        )
    audit.record(
        session,
        actor=actor,
        action="readiness.exercise_decided" if drill_id is not None else "readiness.decided",
        entity_type="readiness_decision",
        entity_id=decision.id,
        details={
            "area": area.key,
            "level": payload.level,
            "previous_level": previous,
            "recommended_level": decision.recommended_level,
            "reason": payload.reason,
            "drill_id": drill_id,
        },
    )
    return decision_out(session, decision)


def decision_out(session: Session, decision: ReadinessDecision) -> DecisionOut:
    reactions = [_reaction_out(r) for r in service.reactions_of(session, decision_id=decision.id)]
    return DecisionOut(**decision_read(decision).model_dump(), reactions=reactions)


def _reaction_out(reaction: Reaction) -> ReactionOut:
    return ReactionOut(
        id=reaction.id,
        rule=reaction.rule_key,
        action=reaction.action,
        payload=reaction.payload,
        status=reaction.status,
        attempts=reaction.attempts,
        last_error=reaction.last_error,
        alert_ids=list((reaction.result or {}).get("alert_ids", [])),
    )


def get_decision(session: Session, *, decision_id: int) -> DecisionOut:
    decision = service.get_decision(session, decision_id=decision_id)
    if decision is None:
        raise NotFound(f"no readiness decision {decision_id}")
    return decision_out(session, decision)
