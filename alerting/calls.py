"""Calls as they happen: the provider asks what an answered call says, posts the key pressed and reports the call's
progress (``alerting.webhooks``; ``alueturva call answer`` does the same for the demo's console calls).

A call's delivery moves through the same monotonic states as a message's: placed (``sent``), answered by a person
(``delivered``), not answered, busy or answered by a machine (``undelivered``, with the provider's status as the
code), not placed (``failed``), stopped before it was answered (``cancelled``). Who answered and how long the call
lasted are kept beside the state whenever the provider tells them, also after the state is final.

A key press acknowledges (``AckMethod.voice``, audited as ``voice:person:<id>``), with a poll's answer; the first
acknowledgement of a recipient, however it came, stops their pending calls (``acknowledgements``), and the sweeper
stops calls still ringing for someone who acknowledged or an alert that ended (``calls_to_stop``, ``stop_calls``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from alerting.acknowledgements import record_acknowledgement
from alerting.call_scripts import alert_call, cancelled_call, machine_call, reply_call, wrong_key_call
from alerting.channels import CallEvent, CallScript, SendError, open_voice_caller
from alerting.inbound import states_before
from alerting.messages import MessageContent, alert_content
from alerting.models import AckMethod, Alert, AlertStatus, Channel, Delivery, DeliveryKind, DeliveryState, Recipient
from alerting.outgoing import reader_versions
from alueturva.db import get_database, id_in, utcnow
from alueturva.digits import ascii_int
from alueturva.errors import NotFound
from alueturva.localized import Version
from alueturva.settings import get_settings

log = logging.getLogger(__name__)

WRONG_KEYS_ALLOWED = 1  # after one key that is not a choice the choices are said once more


@dataclass(frozen=True)
class Call:
    """One call's delivery and what it is about, read when the provider posts about it."""

    delivery_id: int
    kind: str
    recipient_id: int
    person_id: int
    alert_id: int
    alert_status: AlertStatus
    closes_at: datetime
    acknowledged: bool
    content: MessageContent
    version: Version


def _call_delivery(event: CallEvent) -> Any:
    """The delivery the event is about: by our id in the webhook URL, and never one that another call placed."""
    same_call = or_(Delivery.provider_id.is_(None), Delivery.provider_id == event.call_id)
    return and_(Delivery.id == event.delivery_id, Delivery.channel == Channel.voice, same_call)


def _call(session: Session, event: CallEvent) -> Call:
    row = session.execute(
        select(Delivery.id, Delivery.kind, Delivery.recipient_id, Recipient.person_id, Recipient.acknowledged_at, Alert)
        .join(Recipient, Recipient.id == Delivery.recipient_id)
        .join(Alert, Alert.id == Delivery.alert_id)
        .where(_call_delivery(event))
    ).first()
    if row is None:
        raise NotFound(f"no call {event.call_id} of delivery {event.delivery_id}")
    alert: Alert = row.Alert
    content = alert_content(alert)
    version = reader_versions(session, {alert.id: content}, {row.recipient_id})[row.recipient_id]
    return Call(
        delivery_id=row.id,
        kind=DeliveryKind(row.kind).value,
        recipient_id=row.recipient_id,
        person_id=row.person_id,
        alert_id=alert.id,
        alert_status=alert.status,
        closes_at=alert.closes_at,
        acknowledged=row.acknowledged_at is not None,
        content=content,
        version=version,
    )


def _state_columns(event: CallEvent, now: datetime) -> tuple[DeliveryState, dict[str, object]] | None:
    """The state the event moves the call to, and the columns that go with it; None if it changes nothing."""
    state = event.state
    if state is None:
        return None
    if state is DeliveryState.delivered and event.machine:
        state = DeliveryState.undelivered
        machine = "a fax machine" if event.answered_by == "fax" else "an answering machine"
        detail = f"{machine} answered ({event.answered_by})"
        return state, {"failed_at": now, "error_code": "machine", "error_message": f"{detail}; nobody was reached"}
    if state is DeliveryState.delivered:
        return state, {"delivered_at": now, "claimed_until": None, "next_attempt_at": None}
    if state is DeliveryState.sent:
        return state, {"claimed_until": None, "next_attempt_at": None}
    reason = {
        DeliveryState.undelivered: f"the call was not answered (the provider reported {event.status})",
        DeliveryState.failed: f"the provider could not place the call ({event.status})",
        DeliveryState.cancelled: "the call was stopped before it was answered",
    }[state]
    code = event.error_code or event.status
    return state, {
        "failed_at": now,
        "claimed_until": None,
        "next_attempt_at": None,
        "error_code": code[:40],
        "error_message": reason + (f" (error {event.error_code})" if event.error_code else ""),
    }


def record_call_event(session: Session, *, event: CallEvent, now: datetime) -> bool:
    """Move the call's delivery forward if the event is news (duplicates and late arrivals change nothing), and keep
    the call's id, who answered and how long it lasted whenever the provider tells them. True if the state moved."""
    moved = False
    change = _state_columns(event, now)
    if change is not None:
        state, columns = change
        result = session.execute(
            update(Delivery)
            .where(_call_delivery(event), Delivery.state.in_(states_before(state)))
            .values(state=state, **columns),
            execution_options={"synchronize_session": False},
        )
        moved = bool(getattr(result, "rowcount", 0))
    facts: dict[str, object] = {"provider_id": func.coalesce(Delivery.provider_id, event.call_id)}
    if event.answered_by:
        facts["answered_by"] = event.answered_by
    if event.duration_seconds is not None:
        facts["duration_seconds"] = event.duration_seconds
    session.execute(
        update(Delivery).where(_call_delivery(event)).values(**facts), execution_options={"synchronize_session": False}
    )
    return moved


def answered(*, event: CallEvent, now: datetime | None = None) -> CallScript:
    """The call was answered and the provider asks what it says: the alert for a person, a short message for an
    answering machine, "already acknowledged" for someone who did, "cancelled" for a cancelled alert."""
    now = now or utcnow()
    with get_database().session() as session:
        call = _call(session, event)
        record_call_event(session, event=event, now=now)
    log.info("call answered", extra={"delivery_id": call.delivery_id, "answered_by": event.answered_by})
    if call.alert_status is AlertStatus.cancelled:
        return cancelled_call(call.content, version=call.version)
    if event.machine:
        return machine_call(call.content, version=call.version)
    if call.acknowledged:
        return reply_call(call.content, version=call.version, text_key="reply_already")
    return alert_call(call.content, kind=call.kind, version=call.version)


def _choice(call: Call, digits: str) -> int | None:
    """The key as a choice: 1 acknowledges an alert without a poll; with one, each option has its digit."""
    number = ascii_int(digits) if len(digits) == 1 else None
    if number is None:
        return None
    if call.content.options:
        return number if 1 <= number <= len(call.content.options) else None
    return number if number == 1 else None


def key_pressed(*, event: CallEvent, wrong_keys: int, now: datetime | None = None) -> CallScript:
    """A key was pressed: a choice acknowledges (with the poll's answer) and the call says so; another key is told
    apart and the choices are said once more (``wrong_keys`` counts the earlier wrong ones of this call)."""
    now = now or utcnow()
    digits = event.digits or ""
    with get_database().session() as session:
        call = _call(session, event)
        record_call_event(session, event=event, now=now)
        choice = _choice(call, digits)
        if choice is None:
            log.info("call key not a choice", extra={"delivery_id": call.delivery_id})
            return wrong_key_call(
                call.content, version=call.version, digit=digits, again=wrong_keys < WRONG_KEYS_ALLOWED
            )
        answer = choice if call.content.options else None
        late = call.alert_status is not AlertStatus.open or now >= call.closes_at
        outcome = record_acknowledgement(
            session,
            alert_id=call.alert_id,
            recipient_id=call.recipient_id,
            late=late,
            method=AckMethod.voice,
            actor=f"voice:person:{call.person_id}",
            response=answer,
            now=now,
            details={"delivery_id": call.delivery_id},
        )
    log.info("call key pressed", extra={"delivery_id": call.delivery_id, "already": outcome.already})
    if outcome.already:
        text_key = "reply_already"
    elif outcome.late:
        text_key = "reply_late"
    else:
        text_key = "reply_answer" if answer else "reply_ok"
    return reply_call(call.content, version=call.version, text_key=text_key, answer=answer)


def apply_call_status(*, event: CallEvent, now: datetime | None = None) -> bool:
    """A status callback: the call's progress, its end (answered, busy, not answered, failed) and duration."""
    with get_database().session() as session:
        moved = record_call_event(session, event=event, now=now or utcnow())
    log.info("call status", extra={"status": event.status, "delivery_id": event.delivery_id, "moved": moved})
    return moved


# --- stopping calls nobody needs any more ----------------------------------------------------------------------

STOP_LIMIT = 500


def calls_to_stop(session: Session, *, now: datetime) -> list[int]:
    """Calls placed and not answered yet (still ringing, as far as we know) whose recipient has acknowledged
    another way or whose alert has ended; those placed longer ago than a call can ring are left alone."""
    ring = timedelta(seconds=get_settings().voice_ring_seconds + 120)
    return list(
        session.scalars(
            select(Delivery.id)
            .join(Recipient, Recipient.id == Delivery.recipient_id)
            .join(Alert, Alert.id == Delivery.alert_id)
            .where(
                Delivery.channel == Channel.voice,
                Delivery.state == DeliveryState.sent,
                Delivery.provider_id.is_not(None),
                Delivery.sent_at >= now - ring,
                or_(Recipient.acknowledged_at.is_not(None), Alert.status != AlertStatus.open),
            )
            .order_by(Delivery.id)
            .limit(STOP_LIMIT)
        )
    )


async def _stop_at_provider(calls: Sequence[tuple[int, str]]) -> list[int]:
    caller = open_voice_caller(connections=8)
    stopped = []
    try:
        for delivery_id, call_id in calls:
            try:
                await caller.cancel_call(call_id=call_id)
            except SendError as exc:
                log.warning("call not stopped", extra={"delivery_id": delivery_id, "code": exc.code})
                continue
            stopped.append(delivery_id)
    finally:
        await caller.close()
    return stopped


def _ringing_or_reported_cancelled() -> ColumnElement[bool]:
    """Still ringing as far as we know, or already reported cancelled by the provider: Twilio may post a stopped
    call's status (``canceled``) before it answers the request that stopped it, and the reason (acknowledged
    another way, or the alert ended) is ours to record in either order. Only calls this job asked the provider to
    stop, and it did, get here."""
    return Delivery.state.in_([DeliveryState.sent, DeliveryState.cancelled])


def stop_calls(delivery_ids: list[int]) -> int:
    """The queue job: ask the provider to stop these calls, and record those it stopped as cancelled (a call that
    was answered meanwhile goes on; its answer then says that the person has already acknowledged)."""
    database = get_database()
    with database.session() as session:
        calls = session.execute(
            select(Delivery.id, Delivery.provider_id).where(
                id_in(session, Delivery.id, delivery_ids), Delivery.state == DeliveryState.sent
            )
        ).all()
    if not calls:
        return 0
    stopped = asyncio.run(_stop_at_provider([(row.id, row.provider_id) for row in calls]))
    if stopped:
        with database.session() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(stopped), _ringing_or_reported_cancelled())
                .values(
                    state=DeliveryState.cancelled,
                    error_code="stopped",
                    error_message="stopped while ringing: acknowledged another way, or the alert ended",
                ),
                execution_options={"synchronize_session": False},
            )
    log.info("calls stopped", extra={"asked": len(calls), "stopped": len(stopped)})
    return len(stopped)
