"""Activating cards and closing activations.

A raised readiness decision activates the cards that match it (``on_readiness_decision``, registered on the
situation domain's reaction seam by the application); an operator activates one by hand (``activate_by_hand``). A
decision in a drill makes exercise activations of that drill, never real ones. A lower decided level, an operator's
close or the drill's end closes the activations: their open tasks are cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from actioncards import assignment, messages, service
from actioncards.models import (
    ActionCard,
    ActivatedTask,
    Activation,
    ActivationState,
    MessageKind,
    TaskState,
    TaskStep,
)
from actioncards.read import activation_read
from actioncards.schemas import ActivationIn, ActivationRead
from alueturva.audit import service as audit
from alueturva.db import get_database, utcnow
from alueturva.errors import Conflict
from situation import exercises
from situation.areas import AreaTree, load_area_tree
from situation.config import rank
from situation.flows import compute_pictures
from situation.reactions import ReactionEvent


def raised_indicators(session: Session, *, tree: AreaTree, area: str, now: datetime, drill_id: int | None) -> set[str]:
    """The indicators standing at a raised level in the area, the areas above it and those within it."""
    _, _, pictures = compute_pictures(session, now=now, drill_id=drill_id)
    related = set(tree.lineage(area)) | {key for key in tree.areas if area in tree.lineage(key)}
    return {
        status.indicator.key
        for key in related
        for status in pictures[key].statuses
        if status.status == "raised" and status.level is not None and rank(status.level) > 0
    }


def matching_cards(
    session: Session, *, tree: AreaTree, area: str, level: str, raised: set[str]
) -> list[tuple[ActionCard, str]]:
    """(card, the area it is activated for) of each card in use for ``level`` that applies to ``area``: a card of the
    area or of one containing it acts in the whole decided area; a card of an area within it acts there."""
    found = []
    for card in service.list_cards(session, level=level, active=True):
        if card.indicators and not raised.intersection(card.indicators):
            continue
        if card.area in tree.lineage(area):
            found.append((card, area))
        elif area in tree.lineage(card.area):
            found.append((card, card.area))
    return found


def activate(
    session: Session,
    *,
    card: ActionCard,
    tree: AreaTree,
    area: str,
    key: str,
    actor: str,
    now: datetime,
    drill_id: int | None = None,
    decision_id: int | None = None,
    notify: bool = True,
) -> Activation:
    """Activate ``card`` for ``area`` in the caller's transaction: the activation and one task per holder of each task's
    role, due its minutes from now, with its reminder timer, and each holder's message (not for the demo's history,
    ``notify=False``). The same ``key`` again returns the activation made."""
    existing = session.scalars(select(Activation).where(Activation.key == key)).one_or_none()
    if existing is not None:
        return existing
    activation = Activation(
        key=key,
        card_id=card.id,
        card_version=card.version,
        area=area,
        level=card.level,
        drill_id=drill_id,
        exercise=drill_id is not None,
        decision_id=decision_id,
        state=ActivationState.active,
        activated_at=now,
        activated_by=actor,
    )
    session.add(activation)
    session.flush()
    for task in card.tasks:
        organisations = assignment.target_organisations(session, tree=tree, area=area, target=task.target)
        due_at = now + timedelta(minutes=task.due_minutes)
        for assignee in assignment.assignees(session, role=task.role, organisations=organisations):
            session.add(
                ActivatedTask(
                    activation_id=activation.id,
                    position=task.position,
                    text=task.text,
                    check=task.check,
                    role=task.role,
                    organisation_id=assignee.organisation_id,
                    person_id=assignee.person_id,
                    membership_id=assignee.membership_id,
                    due_at=due_at,
                    state=TaskState.open,
                    next_step=TaskStep.remind if assignee.person_id is not None else TaskStep.overdue,
                    next_step_at=due_at,
                )
            )
    session.flush()
    session.refresh(activation)
    if notify:
        messages.queue_for_people(session, activation=activation, kind=MessageKind.tasks, tasks=activation.tasks)
    audit.record(
        session, actor=actor, action="action_card.activate", entity_type="action_card_activation",
        entity_id=activation.id,
        details={"card": card.key, "area": area, "drill_id": drill_id, "decision_id": decision_id},
    )  # fmt: skip
    return activation


def close(session: Session, *, activation: Activation, actor: str, reason: str, now: datetime) -> list[int]:
    """Close an active activation in the caller's transaction; its open tasks are cancelled and their holders told
    (messages sent after the commit). Returns the cancelled tasks' ids."""
    if activation.state is not ActivationState.active:
        return []
    activation.state = ActivationState.closed
    activation.closed_at = now
    activation.closed_by = actor
    activation.close_reason = reason[:500]
    cancelled = []
    for task in activation.tasks:
        if task.state is TaskState.open:
            task.state = TaskState.cancelled
            task.next_step = None
            task.next_step_at = None
            cancelled.append(task)
    messages.queue_for_people(session, activation=activation, kind=MessageKind.cancelled, tasks=cancelled)
    audit.record(
        session, actor=actor, action="action_card.close", entity_type="action_card_activation",
        entity_id=activation.id, details={"reason": reason[:500], "cancelled_tasks": len(cancelled)},
    )  # fmt: skip
    return [task.id for task in cancelled]


def active_activations(
    session: Session, *, drill_id: int | None, areas: Sequence[str] | None = None
) -> list[Activation]:
    query = select(Activation).where(Activation.state == ActivationState.active)
    query = query.where(Activation.drill_id.is_(None) if drill_id is None else Activation.drill_id == drill_id)
    if areas is not None:
        query = query.where(Activation.area.in_(list(areas)))
    return list(session.scalars(query.order_by(Activation.id)))


def close_for_drill(session: Session, *, drill_id: int, actor: str, now: datetime) -> int:
    """A step of a drill's end (in its transaction): every activation of the drill closes."""
    activations = active_activations(session, drill_id=drill_id)
    for activation in activations:
        close(session, activation=activation, actor=actor, reason=f"drill {drill_id} ended", now=now)
    return len(activations)


# Use cases -------------------------------------------------------------------------------------------------------


def on_readiness_decision(event: ReactionEvent) -> dict[str, list[int]]:
    """The reaction of a readiness decision: a raise activates the matching cards for its area, a lowering closes
    the activations of the area (and of the areas within it) whose level is above the new one. Idempotent: each
    activation's key names the decision and the card. The messages go after the commit."""
    if event.change == "lowered":
        closed = _close_above(event)
        _send_after_commit(closed)
        return {"closed_activation_ids": closed}
    if event.change != "raised":
        return {}
    made = _activate_matching(event)
    _send_after_commit(made)
    return {"activation_ids": made}


def _close_above(event: ReactionEvent) -> list[int]:
    now = utcnow()
    with get_database().session() as session:
        tree = load_area_tree(session)
        within = [key for key in tree.areas if event.area in tree.lineage(key)]
        above = [
            activation
            for activation in active_activations(session, drill_id=event.drill_id, areas=within)
            if activation.level is not None and rank(activation.level) > rank(event.level)
        ]
        reason = f"readiness decision {event.decision_id}: level lowered"
        for activation in above:
            close(session, activation=activation, actor=event.decided_by, reason=reason, now=now)
        return [activation.id for activation in above]


def _activate_matching(event: ReactionEvent) -> list[int]:
    now = utcnow()
    with get_database().session() as session:
        tree = load_area_tree(session)
        raised = raised_indicators(session, tree=tree, area=event.area, now=now, drill_id=event.drill_id)
        return [
            activate(
                session, card=card, tree=tree, area=area, key=f"decision-{event.decision_id}-card-{card.id}",
                actor=event.decided_by, now=now, drill_id=event.drill_id, decision_id=event.decision_id,
            ).id
            for card, area in matching_cards(session, tree=tree, area=event.area, level=event.level, raised=raised)
        ]  # fmt: skip


def _send_after_commit(activation_ids: list[int]) -> None:
    """The messages the committed change wrote (a failure is left to the periodic task, which sends them later)."""
    for activation_id in activation_ids:
        messages.send_pending_messages(activation_id=activation_id)


def activate_by_hand(*, payload: ActivationIn, actor: str) -> ActivationRead:
    """An operator activates a card for an area (in a running drill: as an exercise)."""
    now = utcnow()
    with get_database().session() as session:
        card = service.get_card(session, key=payload.card)
        if not card.active:
            raise Conflict(f"the card '{card.key}' is not in use")
        if payload.drill_id is not None:
            exercises.running_exercise(session, payload.drill_id)
        tree = load_area_tree(session)
        area = tree.get(payload.area).key
        key = f"manual-{payload.idempotency_key}" if payload.idempotency_key else f"manual-{card.id}-{now.isoformat()}"
        activation = activate(
            session, card=card, tree=tree, area=area, key=key, actor=actor, now=now, drill_id=payload.drill_id
        )
        if activation.card_id != card.id or activation.area != area or activation.drill_id != payload.drill_id:
            raise Conflict(f"idempotency_key: already used for activation {activation.id} of another card or area")
        session.flush()
        session.refresh(activation)
        shown = activation_read(session, activation, now=now)
    _send_after_commit([shown.id])
    return shown


def close_by_hand(*, activation_id: int, actor: str, reason: str) -> ActivationRead:
    now = utcnow()
    with get_database().session() as session:
        activation = service.get_activation(session, activation_id=activation_id)
        if activation.state is not ActivationState.active:
            raise Conflict(f"activation {activation_id} is closed already")
        close(session, activation=activation, actor=actor, reason=reason, now=now)
        shown = activation_read(session, activation, now=now)
    _send_after_commit([activation_id])
    return shown
