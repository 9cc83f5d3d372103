"""The seam through which a readiness decision sets other work in motion, without this domain importing it.

A decision records one ``Reaction`` row per matching rule of ``config/readiness.yaml`` (an outbox). After the
decision is committed, every handler registered here is called with a ``ReactionEvent`` (the application registers,
for example, the alerting domain's handler in ``alueturva.app.wiring``). A handler that raises leaves the reaction
pending; it is tried again later with back-off, so a handler must be idempotent: ``reaction_id`` is a stable
idempotency key. Register handlers when the application starts, so every process that dispatches (API, scheduler)
has them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from alueturva.db import Database, get_database, utcnow
from situation import service
from situation.areas import load_area_tree
from situation.config import change_between, readiness_config
from situation.models import Reaction

log = logging.getLogger(__name__)

REACTION_LEASE = timedelta(minutes=5)
REACTION_MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class ReactionEvent:
    reaction_id: int
    decision_id: int
    rule: str
    action: str
    area: str
    area_names: dict[str, str]
    level: str
    level_names: dict[str, str]
    previous_level: str
    change: str
    groups: tuple[str, ...]
    reason: str
    decided_by: str
    drill_id: int | None  # an exercise decision's drill: its alerts are exercise alerts to the drill's targets

    @property
    def idempotency_key(self) -> str:
        return f"readiness-reaction-{self.reaction_id}"


# A handler returns what it did, kept with the reaction: {"alert_ids": [...]} for the alerts it sent.
Handler = Callable[[ReactionEvent], dict[str, Any] | None]
_handlers: list[Handler] = []


def register(handler: Handler) -> None:
    """Call ``handler`` for every reaction from now on (registering the same handler twice has no effect)."""
    if handler not in _handlers:
        _handlers.append(handler)


def unregister(handler: Handler) -> None:
    if handler in _handlers:
        _handlers.remove(handler)


def handlers() -> tuple[Handler, ...]:
    return tuple(_handlers)


# The outbox ---------------------------------------------------------------------------------------------------


def _event_for(session: Session, reaction: Reaction) -> ReactionEvent:
    decision = service.get_decision(session, decision_id=reaction.decision_id)
    assert decision is not None
    config = readiness_config()
    area = load_area_tree(session).areas.get(decision.area_key)
    return ReactionEvent(
        reaction_id=reaction.id,
        decision_id=decision.id,
        rule=reaction.rule_key,
        action=reaction.action,
        area=decision.area_key,
        area_names=area.names if area else {"fi": decision.area_key},
        level=decision.level,
        level_names=config.level_names()[decision.level].model_dump(),
        previous_level=decision.previous_level,
        change=change_between(decision.previous_level, decision.level),
        groups=tuple(reaction.payload.get("groups", [])),
        reason=decision.reason,
        decided_by=decision.decided_by,
        drill_id=decision.drill_id,
    )


def dispatch_reactions(
    *, database: Database | None = None, now: datetime | None = None, decision_id: int | None = None
) -> int:
    """Hand every due reaction (of one decision, if given) to the registered handlers; returns how many were handled
    successfully.

    Each reaction is claimed for a lease first, so two dispatchers never handle one reaction at the same time, and
    one that crashed mid-way is taken again when its lease ends.
    """
    database = database or get_database()
    now = now or utcnow()
    with database.session() as session:
        due = service.due_reaction_ids(session, now=now, decision_id=decision_id)
    return sum(_dispatch_one(database, reaction_id, now=now) for reaction_id in due)


def _dispatch_one(database: Database, reaction_id: int, *, now: datetime) -> bool:
    with database.session() as session:
        if not service.claim_reaction(session, reaction_id=reaction_id, now=now, lease=REACTION_LEASE):
            return False
        reaction = service.get_reaction(session, reaction_id=reaction_id)
        assert reaction is not None
        session.refresh(reaction)
        registered = handlers()
        if not registered:
            reaction.status = "unhandled"
            reaction.claimed_until = None
            reaction.completed_at = now
            log.info("reaction recorded; no handler registered", extra={"reaction_id": reaction_id})
            return False
        event = _event_for(session, reaction)
    errors = []
    results: dict[str, Any] = {}
    for handler in registered:
        try:
            _merge(results, handler(event))
        except Exception as exc:
            log.warning("reaction handler failed", extra={"reaction_id": reaction_id, "error": type(exc).__name__})
            errors.append(f"{getattr(handler, '__name__', 'handler')}: {type(exc).__name__}: {exc}")
    with database.session() as session:
        reaction = service.get_reaction(session, reaction_id=reaction_id)
        assert reaction is not None
        reaction.attempts += 1
        reaction.claimed_until = None
        if results:
            merged = dict(reaction.result or {})
            _merge(merged, results)
            reaction.result = merged
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


def _merge(into: dict[str, Any], result: dict[str, Any] | None) -> None:
    """Add a handler's result: lists (such as ``alert_ids``) are joined without repeats, other values replaced."""
    for key, value in (result or {}).items():
        if isinstance(value, list):
            into[key] = [*into.get(key, []), *(item for item in value if item not in into.get(key, []))]
        else:
            into[key] = value


def dispatch_reactions_job() -> int:
    """Queue job and periodic task: dispatch due reactions."""
    return dispatch_reactions()
