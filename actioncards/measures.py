"""What a drill's action cards measured: their tasks, each counted from its activation (for the drill's objective
``tasks_done_within`` and its report), and each card used in the drill (for the report's course of events)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from actioncards.models import ActionCard, ActivatedTask, Activation, TaskState


@dataclass(frozen=True)
class TaskCount:
    total: int  # every task of the drill's activations
    done_within: int  # marked done within the minutes of its activation


def tasks_done_within(session: Session, *, drill_id: int, minutes: float) -> TaskCount:
    rows = session.execute(
        select(ActivatedTask.state, ActivatedTask.done_at, Activation.activated_at)
        .join(Activation, Activation.id == ActivatedTask.activation_id)
        .where(Activation.drill_id == drill_id)
    ).all()
    window = timedelta(minutes=minutes)
    done = sum(
        1
        for state, done_at, activated_at in rows
        if state == TaskState.done and done_at is not None and done_at - activated_at <= window
    )
    return TaskCount(total=len(rows), done_within=done)


@dataclass(frozen=True)
class CardFigures:
    """One card's tasks in one organisation: done in time, done late, not done (cannot, cancelled or still open),
    and the median time from the card's activation to a task done."""

    card_title: dict[str, str]
    organisation: str | None
    tasks: int
    done: int
    late: int
    not_done: int
    median_seconds: float | None


def card_figures(session: Session, *, drill_id: int) -> list[CardFigures]:
    from statistics import median

    from contacts.models import Organisation

    rows = session.execute(
        select(
            Activation.card_id,
            ActivatedTask.organisation_id,
            Organisation.short_name,
            ActivatedTask.state,
            ActivatedTask.done_at,
            ActivatedTask.due_at,
            Activation.activated_at,
        )
        .join(Activation, Activation.id == ActivatedTask.activation_id)
        .outerjoin(Organisation, Organisation.id == ActivatedTask.organisation_id)
        .where(Activation.drill_id == drill_id)
        .order_by(Activation.card_id, Organisation.short_name)
    ).all()
    titles = dict(
        session.execute(select(ActionCard.id, ActionCard.title).where(ActionCard.id.in_({r[0] for r in rows}))).all()
    )
    groups: dict[tuple[int, str | None], list[tuple[TaskState, datetime | None, datetime, datetime]]] = {}
    for card_id, _, short_name, state, done_at, due_at, activated_at in rows:
        groups.setdefault((card_id, short_name), []).append((state, done_at, due_at, activated_at))
    figures = []
    for (card_id, organisation), tasks in groups.items():
        done = [(d, due, a) for s, d, due, a in tasks if s == TaskState.done and d is not None]
        figures.append(
            CardFigures(
                card_title=titles[card_id],
                organisation=organisation,
                tasks=len(tasks),
                done=sum(d <= due for d, due, _ in done),
                late=sum(d > due for d, due, _ in done),
                not_done=len(tasks) - len(done),
                median_seconds=median((d - a).total_seconds() for d, _, a in done) if done else None,
            )
        )
    return figures


@dataclass(frozen=True)
class CardUse:
    """A card activated in a drill: when, its title per language, for which area, its tasks and how many were done."""

    activated_at: datetime
    title: dict[str, str]
    area: str
    tasks: int
    done: int


def card_uses(session: Session, *, drill_id: int) -> list[CardUse]:
    activations = session.scalars(
        select(Activation)
        .where(Activation.drill_id == drill_id)
        .options(selectinload(Activation.card), selectinload(Activation.tasks))
        .order_by(Activation.activated_at, Activation.id)
    ).all()
    return [
        CardUse(
            activated_at=activation.activated_at,
            title=activation.card.title,
            area=activation.area,
            tasks=len(activation.tasks),
            done=sum(1 for task in activation.tasks if task.state == TaskState.done),
        )
        for activation in activations
    ]
