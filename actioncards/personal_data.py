"""What the action-card domain holds about people (alueturva/personal/holders.py): the tasks given to them, and the
comment a person wrote when marking one (a free text: retention kind ``deliveries``, as SMS replies are)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from actioncards.models import ActivatedTask, Activation
from alueturva.personal.holders import Holder, Retention, Subject, rows_changed
from alueturva.personal.pseudonym import PREFIX, person_pseudonym, pseudonym_of


def _expired(session: Session, *, before: datetime, after_id: int, limit: int) -> Sequence[int]:
    query = select(ActivatedTask.id).where(
        ActivatedTask.due_at < before,
        ActivatedTask.comment.is_not(None),
        ~ActivatedTask.comment.startswith(PREFIX, autoescape=True),
        ActivatedTask.id > after_id,
    )
    return session.scalars(query.order_by(ActivatedTask.id).limit(limit)).all()


def _pseudonymise(session: Session, *, ids: Sequence[int]) -> int:
    rows = session.execute(select(ActivatedTask.id, ActivatedTask.person_id).where(ActivatedTask.id.in_(ids))).all()
    changes = [
        {
            "id": row.id,
            "comment": person_pseudonym(row.person_id) if row.person_id else pseudonym_of(f"task:{row.id}"),
        }
        for row in rows
    ]
    if changes:
        session.execute(update(ActivatedTask), changes)
    return len(changes)


def _export(session: Session, *, subject: Subject) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ActivatedTask, Activation.exercise)
        .join(Activation, Activation.id == ActivatedTask.activation_id)
        .where(ActivatedTask.person_id == subject.person_id)
        .order_by(ActivatedTask.id)
    ).all()
    return [
        {
            "text": task.text,
            "exercise": exercise,
            "due_at": task.due_at,
            "state": task.state.value,
            "done_at": task.done_at,
            "comment": task.comment,
        }
        for task, exercise in rows
    ]


def _erase(session: Session, *, subject: Subject) -> int:
    statement = (
        update(ActivatedTask)
        .where(ActivatedTask.person_id == subject.person_id, ActivatedTask.comment.is_not(None))
        .values(comment=person_pseudonym(subject.person_id))
    )
    return rows_changed(session.execute(statement, execution_options={"synchronize_session": False}))


HOLDERS = (Holder("actioncards.tasks", Retention("deliveries", _expired, _pseudonymise), export=_export, erase=_erase),)
