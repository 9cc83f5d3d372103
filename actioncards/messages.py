"""What people are told, through the alerting domain's delivery machinery (``alerting.public``), so its guarantees
hold (docs/architecture.md §4): one message per person per activation listing their tasks (SMS with their link, and
email), the cancellation of their open tasks, a reminder, a task handed over to a deputy.

A message is a row written in the transaction of the change that causes it (an outbox); after the commit it becomes a
one-person alert under the row's key (an idempotency key: created once, whatever crashes in between). The periodic
``actioncards.timers.tick`` finishes rows a crash left. In a drill the alert is an exercise alert (HARJOITUS / ÖVNING).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from actioncards.links import task_url
from actioncards.models import ActivatedTask, Activation, ActivationMessage, MessageKind
from actioncards.texts import text
from alerting.public import AlertCreate, EscalationOverride, SmsTooLong, Targets, create_alert
from alueturva.db import Database, get_database, utcnow
from alueturva.errors import DomainError
from alueturva.i18n import LANGUAGES, format_clock

log = logging.getLogger(__name__)
NO_ESCALATION = EscalationOverride(
    resend_times=0,
    other_channel=False,
    deputy_after_minutes=None,
    notify_operator_after_minutes=None,
    call_after_minutes=None,
)  # fmt: skip  (the card's own timers remind and hand over: actioncards.timers)


CUTS = (None, 60, 30, 0)  # a task's text in an SMS: whole, then cut to this many characters, then its number alone


def _cut(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return "–" if limit == 0 else text[: limit - 1].rstrip() + "…"


def queue(
    session: Session, *, activation: Activation, person_id: int, kind: MessageKind, tasks: Sequence[ActivatedTask]
) -> ActivationMessage | None:
    """A message row (the outbox), once per key: kind, activation, person and, for a single task's step, the task."""
    suffix = f"-task-{tasks[0].id}" if kind in (MessageKind.reminder, MessageKind.handed_over) else ""
    key = f"action-card-{activation.id}-person-{person_id}-{kind.value}{suffix}"
    if session.scalars(select(ActivationMessage.id).where(ActivationMessage.key == key)).first() is not None:
        return None
    message = ActivationMessage(
        key=key,
        activation_id=activation.id,
        person_id=person_id,
        kind=kind,
        task_ids=[task.id for task in tasks],
        link_nonce=secrets.token_urlsafe(16),
    )
    session.add(message)
    return message


def queue_for_people(
    session: Session, *, activation: Activation, kind: MessageKind, tasks: Iterable[ActivatedTask]
) -> None:
    """One message per person among ``tasks``' holders, listing their tasks."""
    by_person: dict[int, list[ActivatedTask]] = {}
    for task in tasks:
        if task.person_id is not None:
            by_person.setdefault(task.person_id, []).append(task)
    for person_id, theirs in sorted(by_person.items()):
        queue(session, activation=activation, person_id=person_id, kind=kind, tasks=theirs)


def _languages(activation: Activation, tasks: Sequence[ActivatedTask]) -> list[str]:
    """The languages every text of the message has (fi and sv always; en where the card has it throughout)."""
    texts = [activation.card.title, *(task.text for task in tasks)]
    return [language for language in LANGUAGES if all(t.get(language) for t in texts)]


def _content(
    message: ActivationMessage, activation: Activation, tasks: Sequence[ActivatedTask], *, cut: int | None
) -> tuple[dict[str, str], dict[str, str]]:
    """(title, message) per language."""
    link = task_url(message_id=message.id, nonce=message.link_nonce)
    lead = {
        MessageKind.tasks: "message_tasks",
        MessageKind.cancelled: "message_cancelled",
        MessageKind.reminder: "message_reminder",
        MessageKind.handed_over: "message_handed_over",
    }[message.kind]
    titles, bodies = {}, {}
    for language in _languages(activation, tasks):
        lines = [text(lead, language)]
        for task in tasks:
            task_text = _cut(task.text[language], cut)
            time = format_clock(task.due_at, language)
            lines.append(text("message_task", language, number=task.position, text=task_text, time=time))
        if message.kind is not MessageKind.cancelled:
            example = tasks[0].position if tasks else 1
            lines += [text("message_link", language, link=link), text("message_reply", language, number=example)]
        titles[language] = activation.card.title[language]
        bodies[language] = "\n".join(lines)
    return titles, bodies


def _requests(session: Session, message: ActivationMessage) -> list[AlertCreate]:
    """The message's alert: with the tasks' whole texts, then shorter ones should SMS find it too long (an SMS is at
    most ``ALUETURVA_SMS_MAX_SEGMENTS`` long; the link and the email have the whole text)."""
    activation = session.get(Activation, message.activation_id)
    assert activation is not None and message.person_id is not None
    chosen = select(ActivatedTask).where(ActivatedTask.id.in_(message.task_ids))
    tasks = list(session.scalars(chosen.order_by(ActivatedTask.position, ActivatedTask.id)))
    requests = []
    for cut in CUTS:
        title, body = _content(message, activation, tasks, cut=cut)
        request = AlertCreate(
            title=title, message=body, targets=Targets(people=[message.person_id]), channels=["sms", "email"],
            exercise=activation.exercise, escalation=NO_ESCALATION, idempotency_key=message.key,
        )  # fmt: skip
        requests.append(request)
    return requests


def _create(requests: list[AlertCreate], *, actor: str) -> int:
    """The alert, in the alerting domain's own transaction (none of ours is open meanwhile)."""
    for request in requests[:-1]:
        try:
            return create_alert(request, actor=actor).alert_id
        except SmsTooLong:
            continue
    return create_alert(requests[-1], actor=actor).alert_id


def send_pending_messages(*, database: Database | None = None, activation_id: int | None = None) -> int:
    """Create the alert of every message row still without one (of one activation, if given); returns how many."""
    database = database or get_database()
    with database.session() as session:
        query = select(ActivationMessage.id).where(
            ActivationMessage.alert_id.is_(None),
            ActivationMessage.error.is_(None),
            ActivationMessage.person_id.is_not(None),
        )
        if activation_id is not None:
            query = query.where(ActivationMessage.activation_id == activation_id)
        pending = list(session.scalars(query.order_by(ActivationMessage.id)))
    sent = 0
    for message_id in pending:
        with database.session() as session:
            message = session.get(ActivationMessage, message_id)
            assert message is not None
            requests, actor = _requests(session, message), f"action-card-activation:{message.activation_id}"
        try:
            alert_id, error = _create(requests, actor=actor), None
        except (DomainError, SmsTooLong) as exc:
            alert_id, error = None, str(exc)[:500]
            log.warning("action card message not sent", extra={"message_id": message_id, "error": type(exc).__name__})
        with database.session() as session:
            message = session.get(ActivationMessage, message_id)
            assert message is not None
            message.alert_id, message.error = alert_id, error
            message.sent_at = utcnow() if alert_id else None
        sent += alert_id is not None
    return sent
