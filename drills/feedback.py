"""Participants' feedback after a drill: when a drill run here ends, everyone who acknowledged is asked, by SMS (or
email when they have no mobile), marked as an exercise, with a signed single-purpose link that expires after a week,
to a one-page form of the drill's 3–5 questions (1–5, yes / no / partly, free text) in their language.

The requests are an outbox (docs/architecture.md §4): written in the transaction that ends the drill, then claimed
one by one (a conditional update), sent, and marked sent; a claim that expired (a crash after claiming) is sent again
by the scheduler's next tick, so nothing is lost, and at most the one message whose sending was cut short is sent
twice. An answer is stored apart from the request (no link, no time); the request only remembers that it has been
answered, with a conditional update in the same transaction, so a second answer is refused."""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from alerting.models import Recipient
from alerting.public import SendError, count_segments, send_notice
from alueturva.db import get_database, utcnow
from alueturva.errors import Conflict, Invalid, NotFound
from alueturva.i18n import LANGUAGES, Language, format_time
from alueturva.personal.pseudonym import is_pseudonym
from alueturva.settings import get_settings
from contacts.models import Person
from drills import service, texts
from drills.models import Drill, FeedbackAnswer, FeedbackRequest
from drills.report.schemas import Feedback, FeedbackQuestion

log = logging.getLogger(__name__)

VALID_FOR = timedelta(days=7)
CLAIM_FOR = timedelta(minutes=5)  # a claim older than this was cut short: the request is sent again
MAX_ATTEMPTS = 5
CHOICES = ("yes", "no", "partly")
_SALT = "alueturva.drills.feedback-link.v1"


def standard_questions() -> list[dict[str, Any]]:
    """The three questions asked when the drill's plan names none."""

    def versions(key: str) -> dict[str, str]:
        return {language: texts.text(key, language) for language in LANGUAGES}

    return [
        {"kind": "scale", "text": versions("feedback_q_clear")},
        {"kind": "choice", "text": versions("feedback_q_knew")},
        {"kind": "text", "text": versions("feedback_q_improve")},
    ]


def questions_of(drill: Drill) -> list[dict[str, Any]]:
    return drill.feedback_questions or standard_questions()


def request_feedback(session: Session, *, drill: Drill, now: datetime) -> int:
    """A step of ending a drill (the caller's transaction): a request for each person who acknowledged one of the
    drill's alerts, unless the week to answer is already over (a drill ended in the past, as the demo's)."""
    if drill.origin != "service" or drill.ended_at is None or drill.ended_at + VALID_FOR <= utcnow():
        return 0
    people = session.execute(
        select(Person.id, Person.mobile, Person.email, Person.language)
        .join(Recipient, Recipient.person_id == Person.id)
        .where(Recipient.alert_id.in_(service.measured_alert_ids(session, drill_id=drill.id)))
        .where(Recipient.acknowledged_at.is_not(None), Person.active.is_(True))
        .distinct()
    ).all()
    made = 0
    for person_id, mobile, email, language in people:
        if not (mobile or email):
            continue
        session.add(
            FeedbackRequest(
                drill_id=drill.id, person_id=person_id, channel="sms" if mobile else "email",
                language=language if language in LANGUAGES else "fi", nonce=secrets.token_urlsafe(16),
                state="pending", attempts=0, segments=0, expires_at=drill.ended_at + VALID_FOR, answered=False,
                created_at=now,
            )
        )  # fmt: skip
        made += 1
    session.flush()
    return made


# Sending ------------------------------------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key.get_secret_value(), salt=_SALT)


def link(request: FeedbackRequest) -> str:
    token = _serializer().dumps([request.id, request.nonce])
    return f"{get_settings().public_base_url.rstrip('/')}/feedback/{token}"


def send_pending(*, now: datetime | None = None) -> int:
    """Send every request that is due: pending, or claimed so long ago that its sending was cut short. A job (after a
    drill ends) and a part of the scheduler's tick."""
    now = now or utcnow()
    with get_database().session() as session:
        due = session.scalars(
            select(FeedbackRequest.id).where(
                FeedbackRequest.expires_at > now,
                or_(
                    FeedbackRequest.state == "pending",
                    and_(FeedbackRequest.state == "sending", FeedbackRequest.claimed_at < now - CLAIM_FOR),
                ),
            )
        ).all()
    return sum(_send_one(request_id, now) for request_id in due)


def send_feedback_job() -> int:
    """Queue job, right after a drill ends: send its participants' feedback requests (and any others due)."""
    return send_pending()


def _claim(request_id: int, now: datetime) -> bool:
    with get_database().session() as session:
        claimed = session.execute(
            update(FeedbackRequest)
            .where(
                FeedbackRequest.id == request_id,
                or_(
                    FeedbackRequest.state == "pending",
                    and_(FeedbackRequest.state == "sending", FeedbackRequest.claimed_at < now - CLAIM_FOR),
                ),
            )
            .values(state="sending", claimed_at=now, attempts=FeedbackRequest.attempts + 1),
            execution_options={"synchronize_session": False},
        )
        return bool(getattr(claimed, "rowcount", 0))


def _send_one(request_id: int, now: datetime) -> int:
    if not _claim(request_id, now):
        return 0  # another worker has it
    with get_database().session() as session:
        request = session.get(FeedbackRequest, request_id)
        assert request is not None
        person = session.get(Person, request.person_id) if request.person_id else None
        drill = service.get_drill(session, drill_id=request.drill_id)
        language = request.language
        name = texts.drill_text(drill, "name", language)
        to = (person.mobile if request.channel == "sms" else person.email) if person else None
        values = {"name": name, "link": link(request), "date": format_time(request.expires_at, language)}
        text, subject = (
            texts.text("feedback_sms", language, **values),
            texts.text("feedback_subject", language, **values),
        )
        channel, attempts = request.channel, request.attempts
    state: str
    try:
        if to is None:
            raise SendError("no_address", "the person has no address for the channel any more")
        send_notice(
            channel=channel,
            to=to,
            subject=subject,
            text=text,
            language=cast(Language, language),
            reference=f"feedback:{request_id}",
        )
        state = "sent"
    except SendError as exc:
        log.warning("feedback request not sent", extra={"request_id": request_id, "code": exc.code})
        state = "failed" if attempts >= MAX_ATTEMPTS or to is None else "pending"
    with get_database().session() as session:
        session.execute(
            update(FeedbackRequest)
            .where(FeedbackRequest.id == request_id)
            .values(
                state=state,
                sent_at=utcnow() if state == "sent" else None,
                segments=count_segments(text).segments if state == "sent" and channel == "sms" else 0,
            ),
            execution_options={"synchronize_session": False},
        )
    return 1 if state == "sent" else 0


# The form -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackForm:
    request_id: int
    drill_name: str
    language: str
    questions: list[dict[str, Any]]
    answered: bool


def _request_of(session: Session, token: str) -> FeedbackRequest:
    """The request a link stands for: signed by us, for this purpose, with the request's own nonce, in time."""
    try:
        request_id, nonce = _serializer().loads(token, max_age=int(VALID_FOR.total_seconds()) + 86_400)
    except SignatureExpired as exc:
        raise Conflict("expired") from exc
    except (BadSignature, ValueError, TypeError) as exc:
        raise NotFound("invalid") from exc
    request = session.get(FeedbackRequest, request_id) if isinstance(request_id, int) else None
    if request is None or not isinstance(nonce, str) or not secrets.compare_digest(nonce, request.nonce):
        raise NotFound("invalid")
    if request.expires_at <= utcnow():
        raise Conflict("expired")
    return request


def form(token: str) -> FeedbackForm:
    """What the form shows (``NotFound``: not a link of ours; ``Conflict``: expired)."""
    with get_database().session() as session:
        request = _request_of(session, token)
        drill = service.get_drill(session, drill_id=request.drill_id)
        return FeedbackForm(
            request_id=request.id,
            drill_name=texts.drill_text(drill, "name", request.language),
            language=request.language,
            questions=questions_of(drill),
            answered=request.answered,
        )


def _checked(questions: list[dict[str, Any]], given: list[str | None]) -> list[Any]:
    answers: list[Any] = []
    for question, value in zip(questions, given, strict=True):
        value = (value or "").strip()
        if question["kind"] == "scale":
            if value not in {"1", "2", "3", "4", "5"}:
                raise Invalid("required")
            answers.append(int(value))
        elif question["kind"] == "choice":
            if value not in CHOICES:
                raise Invalid("required")
            answers.append(value)
        else:
            answers.append(value[:2000] or None)
    return answers


def answer(*, token: str, given: list[str | None]) -> None:
    """Store one participant's answers, apart from who they are; a second answer with the same link is refused
    (``Conflict("answered")``)."""
    with get_database().session() as session:
        request = _request_of(session, token)
        drill = service.get_drill(session, drill_id=request.drill_id)
        answers = _checked(questions_of(drill), given)
        marked = session.execute(
            update(FeedbackRequest)
            .where(FeedbackRequest.id == request.id, FeedbackRequest.answered.is_(False))
            .values(answered=True),
            execution_options={"synchronize_session": False},
        )
        if not getattr(marked, "rowcount", 0):
            raise Conflict("answered")
        session.add(FeedbackAnswer(drill_id=drill.id, language=request.language, answers=answers))


# In the report ------------------------------------------------------------------------------------------------------


def sms_segments(session: Session, *, start: datetime, end: datetime) -> int:
    """The SMS segments of the feedback requests sent in [start, end) (exercise messages, in the year's costs)."""
    total = session.scalar(
        select(func.coalesce(func.sum(FeedbackRequest.segments), 0)).where(
            FeedbackRequest.sent_at >= start, FeedbackRequest.sent_at < end
        )
    )
    return int(total or 0)


def feedback_of(session: Session, *, drill: Drill, language: str) -> Feedback:
    """The distribution of each question's answers and the free texts, without names."""
    requested = len(session.scalars(select(FeedbackRequest.id).where(FeedbackRequest.drill_id == drill.id)).all())
    rows: Sequence[list[Any]] = session.scalars(
        select(FeedbackAnswer.answers).where(FeedbackAnswer.drill_id == drill.id).order_by(FeedbackAnswer.id)
    ).all()
    questions = []
    for position, question in enumerate(questions_of(drill)):
        given = [row[position] for row in rows if position < len(row) and row[position] is not None]
        kind = question["kind"]
        keys: list[str] = ["1", "2", "3", "4", "5"] if kind == "scale" else list(CHOICES) if kind == "choice" else []
        counts = Counter(str(value) for value in given)
        questions.append(
            FeedbackQuestion(
                text=question["text"].get(language) or question["text"]["fi"],
                kind=kind,
                answers={key: counts.get(key, 0) for key in keys},
                # a free text past its retention time is a pseudonym of itself: its words are gone
                texts=[str(value) for value in given if not is_pseudonym(str(value))] if kind == "text" else [],
            )
        )
    return Feedback(requested=requested, answered=len(rows), questions=questions)
