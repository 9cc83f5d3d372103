"""What a drill's action cards measured: their tasks, each counted from its activation (for the drill's objective
``tasks_done_within`` and its report)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from actioncards.models import ActivatedTask, Activation, TaskState


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
