"""Action card data access: keyword-only functions taking the caller's session; they never commit."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from actioncards.models import (
    ActionCard,
    ActionCardTask,
    ActivatedTask,
    Activation,
    ActivationState,
    Review,
    ReviewSubject,
    TaskTarget,
)
from actioncards.schemas import CardIn
from alueturva.db import utcnow
from alueturva.errors import NotFound


def list_cards(
    session: Session,
    *,
    card_set: str | None = None,
    level: str | None = None,
    area: str | None = None,
    active: bool | None = None,
) -> Sequence[ActionCard]:
    query = select(ActionCard).options(selectinload(ActionCard.tasks)).order_by(ActionCard.card_set, ActionCard.key)
    if card_set is not None:
        query = query.where(ActionCard.card_set == card_set)
    if level is not None:
        query = query.where(ActionCard.level == level)
    if area is not None:
        query = query.where(ActionCard.area == area)
    if active is not None:
        query = query.where(ActionCard.active == active)
    return session.scalars(query).all()


def find_card(session: Session, *, key: str) -> ActionCard | None:
    return session.scalars(
        select(ActionCard).options(selectinload(ActionCard.tasks)).where(ActionCard.key == key)
    ).one_or_none()


def get_card(session: Session, *, key: str) -> ActionCard:
    card = find_card(session, key=key)
    if card is None:
        raise NotFound(f"no action card '{key}'")
    return card


def card_fields(payload: CardIn) -> dict[str, object]:
    """The card's own columns from a request (its tasks apart)."""
    fields = payload.model_dump(exclude={"key", "tasks", "title"}, mode="json")
    return {**fields, "title": payload.title.model_dump(exclude_none=True)}


def task_rows(payload: CardIn) -> list[ActionCardTask]:
    return [
        ActionCardTask(
            position=position,
            text=task.text.model_dump(exclude_none=True),
            role=task.role,
            target=TaskTarget(task.target),
            due_minutes=task.due_minutes,
            check=task.check.model_dump(exclude_none=True) if task.check else None,
        )
        for position, task in enumerate(payload.tasks, start=1)
    ]


def add_card(session: Session, *, payload: CardIn, actor: str) -> ActionCard:
    card = ActionCard(key=payload.key, updated_by=actor, **card_fields(payload))
    card.tasks = task_rows(payload)
    session.add(card)
    session.flush()
    return card


def replace_card(session: Session, *, card: ActionCard, payload: CardIn, actor: str) -> ActionCard:
    """The card's contents become the request's; its tasks are written anew (a new version)."""
    for name, value in card_fields(payload).items():
        setattr(card, name, value)
    card.tasks.clear()
    session.flush()  # the old tasks' positions free before the new ones take them
    card.tasks.extend(task_rows(payload))
    card.version += 1
    card.updated_by = actor
    card.updated_at = utcnow()
    session.flush()
    return card


def add_review(session: Session, **fields: object) -> Review:
    review = Review(**fields)
    session.add(review)
    session.flush()
    return review


def latest_reviews(session: Session) -> dict[tuple[int, ReviewSubject], Review]:
    """Each organisation's latest review of each subject."""
    reviews = session.scalars(select(Review).order_by(Review.reviewed_at, Review.id)).all()
    return {(review.organisation_id, review.subject): review for review in reviews}


def get_activation(session: Session, *, activation_id: int) -> Activation:
    activation = session.get(Activation, activation_id)
    if activation is None:
        raise NotFound(f"no activation {activation_id}")
    return activation


def list_activations(
    session: Session, *, area: str | None = None, drill_id: int | None = None, state: ActivationState | None = None
) -> Sequence[Activation]:
    """Activations, newest first; without ``drill_id`` the real ones only (a drill's never mix with them)."""
    query = select(Activation).options(selectinload(Activation.tasks), selectinload(Activation.card))
    query = query.where(Activation.drill_id.is_(None) if drill_id is None else Activation.drill_id == drill_id)
    if area is not None:
        query = query.where(Activation.area == area)
    if state is not None:
        query = query.where(Activation.state == state)
    return session.scalars(query.order_by(Activation.id.desc())).all()


def get_task(session: Session, *, task_id: int) -> ActivatedTask:
    task = session.get(ActivatedTask, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    return task
