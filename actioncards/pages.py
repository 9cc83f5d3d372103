"""The phone page of a person's task link: ``GET /tasks/{token}`` shows their tasks of the activation in their
language (390 px wide is enough); each task is marked done or cannot do, with a comment, by a ``POST`` (mail scanners
follow GET links). A tampered or expired link gets a 4xx page and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from actioncards.links import LinkExpired, LinkInvalid, read_token
from actioncards.marking import mark_task
from actioncards.models import ActivatedTask, Activation, ActivationMessage, ActivationState, TaskState
from actioncards.texts import text
from alueturva.db import get_database, utcnow
from alueturva.i18n import LANGUAGE_LABELS, LANGUAGES, format_time
from contacts.models import Person

router = APIRouter(tags=["task pages"], include_in_schema=False)
Token = Annotated[str, PathParam(max_length=400)]
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}
_environment = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=select_autoescape(["html", "j2"])
)


@dataclass(frozen=True)
class TaskShown:
    id: int
    label: str
    text: str
    check: str | None
    due: str
    state: str
    status: str | None


class _Refused(Exception):
    def __init__(self, status_code: int, key: str) -> None:
        self.status_code = status_code
        self.key = key


def _message(session: Session, token: str) -> ActivationMessage:
    try:
        link = read_token(token)
    except LinkExpired as exc:
        raise _Refused(410, "page_expired") from exc
    except LinkInvalid as exc:
        raise _Refused(404, "page_invalid") from exc
    message = session.get(ActivationMessage, link.message_id)
    if message is None or message.link_nonce != link.nonce or message.person_id is None:
        raise _Refused(404, "page_invalid")
    return message


def _tasks(session: Session, message: ActivationMessage) -> list[ActivatedTask]:
    """The person's tasks of the activation (also those handed to them since the message)."""
    return list(
        session.scalars(
            select(ActivatedTask)
            .where(ActivatedTask.activation_id == message.activation_id, ActivatedTask.person_id == message.person_id)
            .order_by(ActivatedTask.position, ActivatedTask.id)
        )
    )


def _language(session: Session, message: ActivationMessage, requested: str | None) -> str:
    if requested in LANGUAGES:
        return str(requested)
    person = session.get(Person, message.person_id)
    return person.language if person and person.language in LANGUAGES else "fi"


def _status(task: ActivatedTask, language: str) -> str | None:
    if task.state is TaskState.done and task.done_at:
        return text("page_marked_done", language, time=format_time(task.done_at, language))
    if task.state is TaskState.cannot and task.done_at:
        return text("page_marked_cannot", language, time=format_time(task.done_at, language))
    if task.state is TaskState.cancelled:
        return text("page_cancelled", language)
    return None


def _render(
    session: Session, message: ActivationMessage, language: str, notice: str | None, status: int = 200
) -> HTMLResponse:
    activation = session.get(Activation, message.activation_id)
    assert activation is not None
    prefix = "U" if language == "sv" else "T"
    tasks = [
        TaskShown(
            id=task.id,
            label=f"{prefix}{task.position}",
            text=task.text.get(language) or task.text["fi"],
            check=(task.check.get(language) or task.check["fi"]) if task.check else None,
            due=text("page_due", language, time=format_time(task.due_at, language)),
            state=task.state.value,
            status=_status(task, language),
        )
        for task in _tasks(session, message)
    ]
    html = _environment.get_template("task_page.html.j2").render(
        lang=language,
        t=lambda key, **values: text(key, language, **values),
        title=activation.card.title.get(language) or activation.card.title["fi"],
        exercise=activation.exercise,
        closed=activation.state is not ActivationState.active,
        tasks=tasks,
        notice=notice,
        languages=LANGUAGE_LABELS,
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _refused(refused: _Refused, language: str | None) -> HTMLResponse:
    shown = str(language) if language in LANGUAGES else "fi"
    html = _environment.get_template("task_page.html.j2").render(
        lang=shown, t=lambda key, **values: text(key, shown, **values), error=text(refused.key, shown), languages=[],
        tasks=[],
    )  # fmt: skip
    return HTMLResponse(html, status_code=refused.status_code, headers=_HEADERS)


@router.get("/tasks/{token}", response_class=HTMLResponse)
def task_page(token: Token, lang: Annotated[str | None, Query(max_length=2)] = None) -> HTMLResponse:
    with get_database().session() as session:
        try:
            message = _message(session, token)
        except _Refused as refused:
            return _refused(refused, lang)
        return _render(session, message, _language(session, message, lang), None)


@router.post("/tasks/{token}", response_class=HTMLResponse)
def mark_on_page(
    token: Token,
    task_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    mark: Annotated[Literal["done", "cannot"], Form()],
    comment: Annotated[str, Form(max_length=1000)] = "",
    lang: Annotated[str | None, Query(max_length=2)] = None,
) -> HTMLResponse:
    """Mark one of the person's own tasks; another's task, or one no longer open, changes nothing."""
    with get_database().session() as session:
        try:
            message = _message(session, token)
        except _Refused as refused:
            return _refused(refused, lang)
        language = _language(session, message, lang)
        task = next((t for t in _tasks(session, message) if t.id == task_id), None)
        if task is None or task.state is not TaskState.open or task.activation.state is not ActivationState.active:
            return _render(session, message, language, None, status=409)
        mark_task(
            session, task=task, mark=mark, actor=f"link:person:{message.person_id}",
            comment=comment.replace("\x00", ""), now=utcnow(),
        )  # fmt: skip
        session.flush()
        return _render(session, message, language, text("page_thanks", language))
