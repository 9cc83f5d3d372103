"""Readiness decisions: a person decides an area's level with a reason; the rules it matches become reactions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from alueturva.audit import service as audit
from alueturva.db import utcnow
from alueturva.errors import NotFound
from situation import service
from situation.areas import Area
from situation.config import BASE_LEVEL, ReactionSpec, change_between, rank
from situation.flows import compute_pictures
from situation.models import Reaction, ReadinessDecision
from situation.schemas import DecisionIn, DecisionOut, ReactionOut


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
    tree, config, pictures = compute_pictures(session, now=now)
    area = tree.get(payload.area)
    current = service.current_decisions(session).get(area.key)
    previous = current.level if current else BASE_LEVEL
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
        change=change_between(decision.previous_level, decision.level),
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
