"""SMS replies that mark tasks: "T1 OK" (done) or "T1 EI" (cannot do); in Swedish "U1 OK", "U1 NEJ"; several at once
("T1 OK T3 OK"). Answered through the alerting domain's reply seam, in the inbound message's transaction, so a
replayed webhook marks nothing twice."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from actioncards.marking import Mark, mark_task
from actioncards.models import ActivatedTask, Activation, ActivationState, TaskState
from actioncards.texts import text

_PAIR = re.compile(r"\b[TU]\s?(\d{1,2})\s*[:=]?\s*(OK|TEHTY|KLAR|DONE|EI|NEJ|NO|X)\b", re.IGNORECASE)
_WHOLE = re.compile(
    r"^(\s*[,;]?\s*[TU]\s?\d{1,2}\s*[:=]?\s*(OK|TEHTY|KLAR|DONE|EI|NEJ|NO|X)\s*[.!]?)+\s*$", re.IGNORECASE
)
_CANNOT = {"EI", "NEJ", "NO", "X"}


def parse(body: str) -> list[tuple[int, Mark]] | None:
    """[(task number, mark)], or None when the text is not a task reply."""
    if not _WHOLE.match(body):
        return None
    return [(int(number), "cannot" if word.upper() in _CANNOT else "done") for number, word in _PAIR.findall(body)]


def answer_reply(session: Session, person_id: int, language: str, body: str, now: datetime) -> str | None:
    """Mark the sender's open tasks the reply names, in their newest active activation that has them."""
    marks = parse(body)
    if marks is None:
        return None
    open_tasks = session.scalars(
        select(ActivatedTask)
        .join(Activation, Activation.id == ActivatedTask.activation_id)
        .where(
            ActivatedTask.person_id == person_id,
            ActivatedTask.state == TaskState.open,
            Activation.state == ActivationState.active,
        )
        .order_by(Activation.id.desc(), ActivatedTask.position)
    ).all()
    marked: dict[Mark, list[str]] = {"done": [], "cannot": []}
    for number, mark in marks:
        task = next((t for t in open_tasks if t.position == number and t.state is TaskState.open), None)
        if task is None:
            return text("reply_no_such_task", language)
        mark_task(session, task=task, mark=mark, actor=f"sms:person:{person_id}", now=now)
        prefix = "U" if language == "sv" else "T"
        marked[mark].append(f"{prefix}{number}")
    replies = [text(f"reply_{mark}", language, tasks=", ".join(names)) for mark, names in marked.items() if names]
    return " ".join(replies)
