"""What Twilio tells us: delivery status callbacks and SMS replies (acknowledgements and poll answers)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alerting import service
from alerting.config import alerting_config
from alerting.models import AckMethod, Alert, AlertStatus, Channel, Delivery, DeliveryState, InboundMessage, Recipient
from alerting.replies import Reply, parse_reply
from alerting.texts import texts
from alueturva.db import get_database, utcnow
from alueturva.errors import Conflict
from alueturva.settings import get_settings
from contacts.models import Person

log = logging.getLogger(__name__)

# Twilio's message statuses mapped onto ours; statuses not listed (receiving, received, ...) change nothing.
TWILIO_STATUSES = {
    "accepted": DeliveryState.queued,
    "scheduled": DeliveryState.queued,
    "queued": DeliveryState.queued,
    "sending": DeliveryState.sending,
    "sent": DeliveryState.sent,
    "delivered": DeliveryState.delivered,
    "read": DeliveryState.delivered,
    "undelivered": DeliveryState.undelivered,
    "failed": DeliveryState.failed,
    "canceled": DeliveryState.failed,
}
_PROGRESS = [DeliveryState.queued, DeliveryState.sending, DeliveryState.sent, DeliveryState.delivered]

LATE_REPLY_WINDOW = timedelta(hours=24)


def states_before(state: DeliveryState) -> list[DeliveryState]:
    """The states a callback reporting ``state`` may move a delivery out of: only forward, never out of a final one."""
    if state in (DeliveryState.undelivered, DeliveryState.failed):
        return [DeliveryState.queued, DeliveryState.sending, DeliveryState.sent]
    return _PROGRESS[: _PROGRESS.index(state)]


def apply_status_callback(
    *, delivery_id: int | None, message_sid: str, status: str, error_code: str | None, now: datetime | None = None
) -> bool:
    """Move the delivery forward if the callback is news; duplicates and late arrivals change nothing."""
    state = TWILIO_STATUSES.get(status.strip().lower())
    if state is None or not message_sid:
        return False
    now = now or utcnow()
    values: dict[str, object] = {"state": state}
    if state is DeliveryState.delivered:
        values["delivered_at"] = now
    if state in (DeliveryState.undelivered, DeliveryState.failed):
        values.update(
            failed_at=now,
            claimed_until=None,
            next_attempt_at=None,
            error_code=(error_code or status)[:40],
            error_message=f"the provider reported the message {status}"
            + (f" (error {error_code})" if error_code else ""),
        )
    if state in (DeliveryState.sent, DeliveryState.delivered):
        values.update(claimed_until=None, next_attempt_at=None)
    target = Delivery.id == delivery_id if delivery_id is not None else Delivery.provider_id == message_sid
    with get_database().session() as session:
        result = session.execute(
            update(Delivery)
            .where(
                target,
                Delivery.channel == Channel.sms,
                or_(Delivery.provider_id.is_(None), Delivery.provider_id == message_sid),
                Delivery.state.in_(states_before(state)),
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


def _find_person(session: Session, sender: str) -> Person | None:
    number = _normalised(sender)
    if number is None:
        return None
    return session.scalars(select(Person).where(Person.mobile == number).order_by(Person.active.desc())).first()


def _choose(session: Session, person_id: int, reply: Reply, now: datetime) -> Recipient | None:
    """The recipient the reply means: the alert with the given code, else the newest open alert, else one that
    closed in the last day (the acknowledgement is then late)."""
    candidates = service.open_recipients_of_person(session, person_id=person_id)
    if reply.code is not None:
        return next((r for r in candidates if r.alert.short_code == reply.code), None)
    for recipient in candidates:
        alert = recipient.alert
        if alert.status is AlertStatus.open:
            return recipient
        ended = alert.closed_at or alert.cancelled_at
        if ended is not None and now - ended <= LATE_REPLY_WINDOW:
            return recipient
    return None


def _answer(session: Session, person: Person, reply: Reply, now: datetime) -> tuple[str, str, int | None]:
    """(outcome, reply text, recipient id) for a known sender."""
    t = texts(person.language)
    if not reply.acknowledges:
        return "unparseable", t["reply_unparseable"], None
    recipient = _choose(session, person.id, reply, now)
    if recipient is None:
        if reply.code is not None:
            return "unknown_code", t["reply_unknown_code"].format(code=reply.code), None
        return "no_open_alert", t["reply_no_alert"], None
    alert: Alert = recipient.alert
    title = alert.title
    if reply.option is not None and not 1 <= reply.option <= len(alert.response_options):
        options = ", ".join(f"{n} {o}" for n, o in enumerate(alert.response_options, 1)) or "OK"
        return "bad_option", t["reply_bad_option"].format(answer=reply.option, options=options), recipient.id
    outcome = service.acknowledge(
        session,
        recipient=recipient,
        method=AckMethod.sms,
        actor=f"sms:person:{person.id}",
        response=reply.option,
        now=now,
    )
    if outcome.already:
        return "duplicate", t["reply_already"].format(title=title), recipient.id
    if outcome.late:
        return "late", t["reply_late"].format(title=title), recipient.id
    if reply.option is not None:
        answer = alert.response_options[reply.option - 1]
        return "answered", t["reply_answer"].format(answer=answer, title=title), recipient.id
    return "acknowledged", t["reply_ok"].format(title=title), recipient.id


def handle_inbound_sms(*, message_sid: str, sender: str, body: str, now: datetime | None = None) -> InboundOutcome:
    """Record an inbound SMS and act on it. A message id seen before is a replay: ``Conflict``, nothing recorded."""
    now = now or utcnow()
    reply = parse_reply(body, keywords=frozenset(word.casefold() for word in alerting_config().reply_keywords))
    try:
        with get_database().session() as session:
            if session.scalar(select(InboundMessage.id).where(InboundMessage.provider_id == message_sid)):
                raise Conflict("this message was already received")
            person = _find_person(session, sender)
            if person is None:
                language = reply.language_hint or get_settings().default_language
                outcome, text, recipient_id = "unknown_sender", texts(language)["reply_unknown_sender"], None
            else:
                outcome, text, recipient_id = _answer(session, person, reply, now)
            session.add(
                InboundMessage(
                    provider_id=message_sid[:100],
                    received_at=now,
                    person_id=person.id if person else None,
                    recipient_id=recipient_id,
                    body=body[:1600],
                    outcome=outcome,
                )
            )
    except IntegrityError as exc:
        raise Conflict("this message was already received") from exc
    log.info("inbound sms", extra={"outcome": outcome, "recipient_id": recipient_id})
    return InboundOutcome(outcome, text)
