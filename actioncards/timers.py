"""An open task's timers, rows with a due time like an alert's escalation (``ActivatedTask.next_step_at``), so a
restarted scheduler loses none and runs none twice: at its due time the holder is reminded once; ``HAND_OVER_AFTER``
later the task goes to the holder's deputy (``Membership.deputy_of_id``, as an alert's deputy step), who is told; and
``OVERDUE_AFTER`` after that, if still open, it is shown as overdue. A task nobody holds is overdue at its due time.

Each step is claimed with a conditional UPDATE on the step and its time, so of two schedulers one wins; the messages
are rows written with the step and sent after the commit (``actioncards.messages``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from actioncards import assignment, messages
from actioncards.models import ActivatedTask, Activation, ActivationState, MessageKind, TaskState, TaskStep
from alueturva.audit import service as audit
from alueturva.db import Database, get_database, utcnow

log = logging.getLogger(__name__)
HAND_OVER_AFTER = timedelta(minutes=15)
OVERDUE_AFTER = timedelta(minutes=15)
BATCH = 200


def _due(session: Session, now: datetime) -> list[tuple[int, TaskStep, datetime]]:
    rows = session.execute(
        select(ActivatedTask.id, ActivatedTask.next_step, ActivatedTask.next_step_at)
        .join(Activation, Activation.id == ActivatedTask.activation_id)
        .where(
            ActivatedTask.next_step_at <= now,
            ActivatedTask.state == TaskState.open,
            Activation.state == ActivationState.active,
        )
        .order_by(ActivatedTask.next_step_at, ActivatedTask.id)
        .limit(BATCH)
    ).all()
    return [(row[0], row[1], row[2]) for row in rows if row[1] is not None and row[2] is not None]


def _claim(
    session: Session, task_id: int, step: TaskStep, at: datetime, following: TaskStep | None, when: datetime | None
) -> bool:
    """Move the task to its following step if nobody did meanwhile."""
    moved = session.execute(
        update(ActivatedTask)
        .where(ActivatedTask.id == task_id, ActivatedTask.next_step == step, ActivatedTask.next_step_at == at)
        .values(next_step=following, next_step_at=when)
    )
    return bool(getattr(moved, "rowcount", 0))


def _remind(session: Session, task: ActivatedTask, now: datetime) -> None:
    task.reminded_at = now
    assert task.person_id is not None
    messages.queue(
        session, activation=task.activation, person_id=task.person_id, kind=MessageKind.reminder, tasks=[task]
    )


def _hand_over(session: Session, task: ActivatedTask, now: datetime) -> bool:
    deputy = assignment.deputy_of(session, membership_id=task.membership_id) if task.membership_id else None
    if deputy is None:
        return False
    task.handed_over_from_id, task.membership_id, task.person_id = task.person_id, deputy[0], deputy[1]
    task.handed_over_at = now
    messages.queue(session, activation=task.activation, person_id=deputy[1], kind=MessageKind.handed_over, tasks=[task])
    audit.record(
        session, actor="system", action="action_card.task_handed_over", entity_type="action_card_task",
        entity_id=task.id, details={"from_person_id": task.handed_over_from_id, "to_person_id": deputy[1]},
    )  # fmt: skip
    return True


def _run_step(session: Session, task_id: int, step: TaskStep, at: datetime, now: datetime) -> bool:
    task = session.get(ActivatedTask, task_id)
    assert task is not None
    if step is TaskStep.remind:
        if not _claim(session, task_id, step, at, TaskStep.hand_over, now + HAND_OVER_AFTER):
            return False
        session.refresh(task)
        _remind(session, task, now)
    elif step is TaskStep.hand_over:
        if not _claim(session, task_id, step, at, TaskStep.overdue, now + OVERDUE_AFTER):
            return False
        session.refresh(task)
        if not _hand_over(session, task, now):  # no deputy: overdue now
            task.next_step_at = now
    else:
        if not _claim(session, task_id, step, at, None, None):
            return False
        session.refresh(task)
        task.overdue_at = now
    return True


def run_due_steps(*, database: Database | None = None, now: datetime | None = None) -> int:
    """Run every task step whose time has come, each in its own transaction; then send the messages they wrote.
    Returns how many steps ran."""
    database = database or get_database()
    now = now or utcnow()
    with database.session() as session:
        due = _due(session, now)
    ran = 0
    for task_id, step, at in due:
        with database.session() as session:
            ran += _run_step(session, task_id, step, at, now)
    if ran:
        log.info("action card task steps ran", extra={"steps": ran})
    messages.send_pending_messages(database=database)
    return ran


def tick() -> int:
    """The scheduler's periodic task: due task steps, and any message a crash left unsent."""
    return run_due_steps()
