"""A task marked done or cannot do: by the person (their link page or an SMS reply) or by an operator on their
behalf, with the reason audited. A task is marked once; the same mark again changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from actioncards import service
from actioncards.models import ActivatedTask, ActivationState, TaskState
from alueturva.audit import service as audit
from alueturva.db import get_database, utcnow
from alueturva.errors import Conflict

Mark = Literal["done", "cannot"]


def mark_task(
    session: Session,
    *,
    task: ActivatedTask,
    mark: Mark,
    actor: str,
    comment: str = "",
    reason: str | None = None,
    now: datetime,
) -> bool:
    """Mark ``task`` in the caller's transaction; False when it had this mark already. A closed activation's task,
    or a task marked otherwise, is a 409."""
    state = TaskState(mark)
    if task.state is state:
        return False
    if task.activation.state is not ActivationState.active:
        raise Conflict(f"task {task.id}: its activation {task.activation_id} is closed")
    if task.state is not TaskState.open:
        raise Conflict(f"task {task.id} is {task.state.value} already")
    task.state = state
    task.done_at = now
    task.comment = comment.strip()[:1000] or None
    task.marked_by = actor
    task.next_step = None
    task.next_step_at = None
    audit.record(
        session, actor=actor, action=f"action_card.task_{mark}", entity_type="action_card_task", entity_id=task.id,
        details={"activation_id": task.activation_id, "person_id": task.person_id, "reason": reason,
                 "on_behalf": reason is not None},
    )  # fmt: skip
    return True


def mark_on_behalf(*, task_id: int, mark: Mark, actor: str, reason: str, comment: str = "") -> int:
    """An operator marks a task for its holder (who told them by phone, say); the reason is audited. Returns the
    activation's id."""
    with get_database().session() as session:
        task = service.get_task(session, task_id=task_id)
        mark_task(session, task=task, mark=mark, actor=actor, comment=comment, reason=reason, now=utcnow())
        return task.activation_id
