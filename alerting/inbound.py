"""What the SMS provider tells us: delivery status reports and SMS replies (acknowledgements and poll answers).
A call's reports are ``alerting.calls``'."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import cast

import phonenumbers
from sqlalchemy import Table, bindparam, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alerting.acknowledgements import record_acknowledgement
from alerting.channels import InboundSms, StatusReport
from alerting.config import alerting_config
from alerting.messages import localized_field
from alerting.models import AckMethod, Alert, AlertStatus, Channel, Delivery, DeliveryState, InboundMessage, Recipient
from alerting.replies import Reply, parse_reply
from alerting.reply_hooks import hooked_answer
from alerting.texts import text
from alueturva.db import get_database, utcnow
from alueturva.errors import Conflict
from alueturva.localized import LocalizedText, Version, versions_for
from alueturva.settings import get_settings
from contacts.models import Organisation, Person

log = logging.getLogger(__name__)

_PROGRESS = [DeliveryState.queued, DeliveryState.sending, DeliveryState.sent, DeliveryState.delivered]

LATE_REPLY_WINDOW = timedelta(hours=24)


def states_before(state: DeliveryState) -> list[DeliveryState]:
    """The states a callback reporting ``state`` may move a delivery out of: only forward, never out of a final one."""
    if state in (DeliveryState.undelivered, DeliveryState.failed, DeliveryState.cancelled):
        return [DeliveryState.queued, DeliveryState.sending, DeliveryState.sent]
    return _PROGRESS[: _PROGRESS.index(state)]


def _columns_for(report: StatusReport, now: datetime) -> dict[str, object]:
    """The delivery columns a report sets: its state and what goes with it."""
    state = report.state
    values: dict[str, object] = {"state": state}
    if state is DeliveryState.delivered:
        values["delivered_at"] = now
    if state in (DeliveryState.undelivered, DeliveryState.failed):
        code = report.error_code
        values.update(
            failed_at=now,
            claimed_until=None,
            next_attempt_at=None,
            error_code=(code or report.provider_status)[:40],
            error_message=f"the provider reported the message {report.provider_status}"
            + (f" (error {code})" if code else ""),
        )
    if state in (DeliveryState.sent, DeliveryState.delivered):
        values.update(claimed_until=None, next_attempt_at=None)
    return values


def apply_status_report(*, report: StatusReport, now: datetime | None = None) -> bool:
    """Move the delivery forward if the report is news; duplicates and late arrivals change nothing."""
    values = _columns_for(report, now or utcnow())
    sid = report.provider_id
    target = Delivery.id == report.delivery_id if report.delivery_id is not None else Delivery.provider_id == sid
    with get_database().session() as session:
        result = session.execute(
            update(Delivery)
            .where(
                target,
                Delivery.channel == Channel.sms,
                or_(Delivery.provider_id.is_(None), Delivery.provider_id == sid),
                Delivery.state.in_(states_before(report.state)),
            )
            .values(**values),
            execution_options={"synchronize_session": False},
        )
        return bool(getattr(result, "rowcount", 0))


# --- SMS replies ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundOutcome:
    outcome: str
    reply: str


def _normalised(number: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number.strip(), "FI")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class Candidate:
    """One alert the sender received, newest open alerts first; its title and options as the sender reads them."""

    recipient_id: int
    alert_id: int
    open: bool
    acknowledged: bool
    short_code: str
    title: str
    options: list[str]
    closes_at: datetime
    ended_at: datetime | None


_people, _recipients, _alerts, _organisations = (
    cast(Table, model.__table__) for model in (Person, Recipient, Alert, Organisation)
)
# Built once: this runs for every reply in a burst of thousands.
_SENDER_AND_ALERTS = (
    select(
        _people.c.id,
        _people.c.language,
        _organisations.c.languages.label("organisation_languages"),
        _recipients.c.id.label("recipient_id"),
        _recipients.c.acknowledged_at,
        _alerts.c.id.label("alert_id"),
        _alerts.c.status,
        _alerts.c.short_code,
        _alerts.c.title,
        _alerts.c.translations,
        _alerts.c.response_options,
        _alerts.c.closes_at,
        func.coalesce(_alerts.c.closed_at, _alerts.c.cancelled_at).label("ended_at"),
    )
    .select_from(_people)
    .join(_organisations, _organisations.c.id == _people.c.organisation_id)
    .outerjoin(_recipients, _recipients.c.person_id == _people.c.id)
    .outerjoin(_alerts, _alerts.c.id == _recipients.c.alert_id)
    .where(_people.c.mobile == bindparam("number"))
    .order_by(
        _people.c.active.desc(),
        _people.c.id,
        case((_alerts.c.status == AlertStatus.open, 0), else_=1),
        _alerts.c.id.desc(),
    )
    .limit(50)
)
_RECORD_INBOUND = insert(cast(Table, InboundMessage.__table__))


def _sender_and_alerts(session: Session, number: str) -> tuple[int, str, list[Candidate]] | None:
    """The person with this mobile and the alerts they received, in one query."""
    rows = session.connection().execute(_SENDER_AND_ALERTS, {"number": number}).all()
    if not rows:
        return None
    person_id, language = rows[0].id, rows[0].language
    candidates = []
    for row in rows:
        if row.id != person_id or row.recipient_id is None:
            continue
        title = localized_field(row.title, row.translations, "title")
        version = versions_for(title.languages, reader=language, organisation_languages=row.organisation_languages)
        options = [
            localized_field(option, row.translations, "response_options", n)
            for n, option in enumerate(row.response_options or [])
        ]
        candidates.append(
            Candidate(
                row.recipient_id,
                row.alert_id,
                row.status is AlertStatus.open,
                row.acknowledged_at is not None,
                row.short_code,
                _as_read(title, version),
                [_as_read(option, version) for option in options],
                row.closes_at,
                row.ended_at,
            )
        )
    return person_id, language, candidates


def _as_read(text: LocalizedText, version: Version) -> str:
    return " / ".join(text[language] for language in version)


def _choose(candidates: list[Candidate], reply: Reply, now: datetime) -> Candidate | None:
    """The alert the reply means: the one with the given code, else the newest open alert not yet acknowledged,
    else the newest open one, else one that closed in the last day (the acknowledgement is then late)."""
    if reply.code is not None:
        return next((c for c in candidates if c.short_code == reply.code), None)
    waiting = next((c for c in candidates if c.open and not c.acknowledged), None)
    if waiting is not None:
        return waiting
    for candidate in candidates:
        if candidate.open:
            return candidate
        if candidate.ended_at is not None and now - candidate.ended_at <= LATE_REPLY_WINDOW:
            return candidate
    return None


def _answer(
    session: Session, person_id: int, language: str, candidates: list[Candidate], reply: Reply, now: datetime
) -> tuple[str, str, int | None]:
    """(outcome, reply text, recipient id) for a known sender."""
    if not reply.acknowledges:
        return "unparseable", text("reply_unparseable", language), None
    chosen = _choose(candidates, reply, now)
    if chosen is None:
        if reply.code is not None:
            return "unknown_code", text("reply_unknown_code", language, code=reply.code), None
        return "no_open_alert", text("reply_no_alert", language), None
    if reply.option is not None and not 1 <= reply.option <= len(chosen.options):
        options = ", ".join(f"{n} {o}" for n, o in enumerate(chosen.options, 1)) or "OK"
        said = text("reply_bad_option", language, answer=reply.option, options=options)
        return "bad_option", said, chosen.recipient_id
    outcome = record_acknowledgement(
        session,
        alert_id=chosen.alert_id,
        recipient_id=chosen.recipient_id,
        late=not chosen.open or now >= chosen.closes_at,
        method=AckMethod.sms,
        actor=f"sms:person:{person_id}",
        response=reply.option,
        now=now,
    )
    named = {"title": chosen.title, "code": chosen.short_code}
    if outcome.already:
        return (
            "duplicate",
            text("reply_already", language, **named) + _others(candidates, chosen, language),
            chosen.recipient_id,
        )
    if outcome.late:
        return "late", text("reply_late", language, **named), chosen.recipient_id
    if reply.option is not None:
        answer = chosen.options[reply.option - 1]
        said = text("reply_answer", language, answer=answer, **named)
        return "answered", said + _others(candidates, chosen, language), chosen.recipient_id
    return (
        "acknowledged",
        text("reply_ok", language, **named) + _others(candidates, chosen, language),
        chosen.recipient_id,
    )


def _others(candidates: list[Candidate], chosen: Candidate, language: str) -> str:
    """When the sender has other open alerts still to acknowledge: how to answer them (a bare "OK" acknowledges
    the newest open alert only, and the reply says which one it was)."""
    others = [c for c in candidates if c.open and not c.acknowledged and c.recipient_id != chosen.recipient_id]
    if not others:
        return ""
    if len(others) == 1:
        return " " + text("reply_other_open", language, title=others[0].title, code=others[0].short_code)
    codes = ", ".join(f"OK {other.short_code}" for other in others[:5])
    return " " + text("reply_others_open", language, count=len(others), codes=codes)


@lru_cache(maxsize=1)
def _keywords() -> frozenset[str]:
    return frozenset(word.casefold() for word in alerting_config().reply_keywords)


def handle_inbound_sms(*, message: InboundSms, now: datetime | None = None) -> InboundOutcome:
    """Record an inbound SMS and act on it. A message id seen before is a replay: ``Conflict``, nothing recorded
    (the unique message id decides, also between simultaneous deliveries of the same webhook)."""
    now = now or utcnow()
    body = message.body.replace("\x00", "")  # PostgreSQL text cannot hold NUL
    reply = parse_reply(body, keywords=_keywords())
    number = _normalised(message.sender)
    try:
        with get_database().session() as session:
            found = _sender_and_alerts(session, number) if number else None
            if found is None:
                person_id = None
                language = reply.language_hint or get_settings().default_language
                outcome, said, recipient_id = "unknown_sender", text("reply_unknown_sender", language), None
            else:
                person_id, language, candidates = found
                hooked = hooked_answer(session, person_id=person_id, language=language, body=body, now=now)
                if hooked is not None:  # another domain's own reply (an action card's "T1 OK")
                    outcome, said, recipient_id = "answered_elsewhere", hooked, None
                else:
                    outcome, said, recipient_id = _answer(session, person_id, language, candidates, reply, now)
            session.connection().execute(
                _RECORD_INBOUND,
                {
                    "provider_id": message.provider_id[:100],
                    "received_at": now,
                    "person_id": person_id,
                    "recipient_id": recipient_id,
                    "body": body[:1600],
                    "outcome": outcome,
                },
            )
    except IntegrityError as exc:
        raise Conflict("this message was already received") from exc
    log.info("inbound sms", extra={"outcome": outcome, "recipient_id": recipient_id})
    return InboundOutcome(outcome, said)
