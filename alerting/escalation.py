"""Escalation: timers are rows with a due time that the sweeper runs exactly once each.

Each step acts on whoever is still silent when it runs, so it stops by itself for a person who acknowledged and
for everyone once the alert is cancelled or closed. A call step calls each silent recipient once (its deliveries
are one per recipient of that step's ``round``: 100 and up, apart from the reminders' 1 to 10), the deputies
alerted before it too; the alert's own ``call_after_minutes``, or each targeted group's (``Group.call_after_minutes``:
that group's members only).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, insert, select, update
from sqlalchemy.orm import Session

from alerting.config import EscalationPolicy
from alerting.dispatch import enqueue_deliveries
from alerting.models import Alert, AlertStatus, Channel, Delivery, DeliveryKind, EscalationTimer, Recipient, TimerKind
from alerting.service import Contact, add_deliveries, add_event, insert_recipients
from alueturva.db import get_database, id_in, utcnow
from alueturva.queue import get_queue
from contacts.models import Membership, Person

log = logging.getLogger(__name__)


CALL_ROUND = 100  # the round of the first call step's calls; each further call step one more


def schedule_timers(
    session: Session,
    *,
    alert_id: int,
    policy: EscalationPolicy,
    created_at: datetime,
    closes_at: datetime,
    group_calls: dict[int, float] | None = None,
) -> None:
    """One row per step of the policy; steps that would fall after the alert closes are left out. Calls: one step
    for everyone after the policy's ``call_after_minutes``, or else one per group in ``group_calls`` (group id ->
    minutes) for its members."""
    steps: list[tuple[TimerKind, int, float, int | None]] = [
        (TimerKind.resend, n, policy.resend_after_minutes * n, None) for n in range(1, policy.resend_times + 1)
    ]
    if policy.deputy_after_minutes is not None:
        steps.append((TimerKind.deputy, 0, policy.deputy_after_minutes, None))
    if policy.notify_operator_after_minutes is not None:
        steps.append((TimerKind.notify_operator, 0, policy.notify_operator_after_minutes, None))
    calls = {None: policy.call_after_minutes} if policy.call_after_minutes is not None else dict(group_calls or {})
    for n, (group_id, minutes) in enumerate(sorted(calls.items(), key=lambda item: (item[1], item[0] or 0))):
        steps.append((TimerKind.call, CALL_ROUND + n, minutes, group_id))
    rows = [
        {"alert_id": alert_id, "kind": kind, "round": round_, "due_at": due_at, "group_id": group_id}
        for kind, round_, minutes, group_id in steps
        if (due_at := created_at + timedelta(minutes=minutes)) < closes_at
    ]
    rows.append({"alert_id": alert_id, "kind": TimerKind.close, "round": 0, "due_at": closes_at, "group_id": None})
    session.execute(insert(EscalationTimer), rows)


def _silent(session: Session, *, alert_id: int) -> Sequence[Recipient]:
    return session.scalars(
        select(Recipient)
        .where(Recipient.alert_id == alert_id, Recipient.acknowledged_at.is_(None))
        .order_by(Recipient.id)
    ).all()


def _contacts(session: Session, person_ids: set[int]) -> dict[int, Contact]:
    rows = session.execute(
        select(Person.id, Person.organisation_id, Person.language, Person.mobile, Person.email).where(
            id_in(session, Person.id, person_ids), Person.active.is_(True)
        )
    ).all()
    return {row.id: Contact(row.id, row.organisation_id, row.language, row.mobile, row.email) for row in rows}


OTHER_CHANNELS = (Channel.sms, Channel.email)  # a reminder's other channel; calls come from call steps


def _channels(alert: Alert, *, other_channel: bool) -> list[Channel]:
    channels = [Channel(name) for name in alert.channels]
    if other_channel:
        channels += [channel for channel in OTHER_CHANNELS if channel not in channels]
    return channels


def _resend(session: Session, alert: Alert, timer: EscalationTimer) -> list[int]:
    other_channel = bool(alert.escalation.get("other_channel", True))
    ids = add_deliveries(
        session,
        alert_id=alert.id,
        recipients=Recipient.acknowledged_at.is_(None),
        channels=_channels(alert, other_channel=other_channel),
        kind=DeliveryKind.reminder,
        round_=timer.round,
        now=utcnow(),
    )
    reminded = session.scalar(
        select(func.count(func.distinct(Delivery.recipient_id))).where(id_in(session, Delivery.id, ids))
    )
    add_event(
        session,
        alert_id=alert.id,
        kind="reminders_sent",
        details={"round": timer.round, "recipients": reminded, "messages": len(ids)},
    )
    return ids


def _deputies_of(session: Session, person_ids: set[int]) -> dict[int, int]:
    """deputy person id -> the person id they deputise (through ``Membership.deputy_of_id``)."""
    principal = (
        select(Membership.id, Membership.person_id).where(id_in(session, Membership.person_id, person_ids)).subquery()
    )
    rows = session.execute(
        select(Membership.person_id, principal.c.person_id.label("principal_person_id"))
        .join(principal, Membership.deputy_of_id == principal.c.id)
        .order_by(Membership.order, Membership.id)
    ).all()
    deputies: dict[int, int] = {}
    for row in rows:
        deputies.setdefault(row.person_id, row.principal_person_id)
    return deputies


def _alert_deputies(session: Session, alert: Alert) -> list[int]:
    silent = [recipient for recipient in _silent(session, alert_id=alert.id) if recipient.deputy_for_id is None]
    recipient_of_person = {recipient.person_id: recipient.id for recipient in silent}
    deputies = _deputies_of(session, set(recipient_of_person))
    already = set(session.scalars(select(Recipient.person_id).where(Recipient.alert_id == alert.id)))
    contacts = _contacts(session, {person_id for person_id in deputies if person_id not in already})
    new_contacts = sorted(contacts.values(), key=lambda contact: contact.person_id)
    recipient_ids = insert_recipients(
        session,
        alert_id=alert.id,
        contacts=new_contacts,
        deputy_for={person_id: recipient_of_person[deputies[person_id]] for person_id in contacts},
    )
    ids = add_deliveries(
        session,
        alert_id=alert.id,
        recipients=id_in(session, Recipient.id, list(recipient_ids.values())),
        channels=[Channel(name) for name in alert.channels],
        kind=DeliveryKind.alert,
        round_=0,
        now=utcnow(),
    )
    add_event(
        session,
        alert_id=alert.id,
        kind="deputies_alerted",
        details={"deputies": len(new_contacts), "recipient_ids": sorted(recipient_ids.values())},
    )
    return ids


def _call_silent(session: Session, alert: Alert, timer: EscalationTimer) -> list[int]:
    """Call each silent recipient once (of the timer's group only, when it has one), deputies alerted before too."""
    silent: ColumnElement[bool] = Recipient.acknowledged_at.is_(None)
    if timer.group_id is not None:
        members = select(Membership.person_id).where(Membership.group_id == timer.group_id)
        silent = and_(silent, Recipient.person_id.in_(members))
    ids = add_deliveries(
        session,
        alert_id=alert.id,
        recipients=silent,
        channels=[Channel.voice],
        kind=DeliveryKind.reminder,
        round_=timer.round,
        now=utcnow(),
    )
    add_event(session, alert_id=alert.id, kind="calls_started", details={"calls": len(ids), "group_id": timer.group_id})
    return ids


def _notify_operator(session: Session, alert: Alert) -> None:
    silent_ids = [recipient.id for recipient in _silent(session, alert_id=alert.id)]
    add_event(
        session,
        alert_id=alert.id,
        kind="silent_recipients",
        details={"count": len(silent_ids), "recipient_ids": silent_ids[:1000]},
    )
    if alert.notify_email and silent_ids:
        from alerting.notices import send_silent_summary

        get_queue().enqueue(send_silent_summary, alert.id, job_id=f"alerting-silent-{alert.id}")


def _close(session: Session, alert: Alert, now: datetime) -> None:
    alert.status = AlertStatus.closed
    alert.closed_at = now
    add_event(session, alert_id=alert.id, kind="closed", details={})


def _run(session: Session, timer: EscalationTimer, now: datetime) -> list[int]:
    alert = session.get(Alert, timer.alert_id)
    if alert is None or alert.status is not AlertStatus.open:
        return []
    if timer.kind is TimerKind.resend:
        return _resend(session, alert, timer)
    if timer.kind is TimerKind.deputy:
        return _alert_deputies(session, alert)
    if timer.kind is TimerKind.call:
        return _call_silent(session, alert, timer)
    if timer.kind is TimerKind.notify_operator:
        _notify_operator(session, alert)
    elif timer.kind is TimerKind.close:
        _close(session, alert, now)
    return []


def run_due_timers(*, now: datetime | None = None, limit: int = 200) -> int:
    """Run each due step once: claimed by setting ``done_at`` in the same transaction as the step's work. An
    alert whose people are still being made recipients (``alerting.audience``) waits: its steps run once everyone
    it names is a recipient, so that a reminder or a call reaches all the silent."""
    now = now or utcnow()
    database = get_database()
    with database.session() as session:
        due = list(
            session.scalars(
                select(EscalationTimer.id)
                .where(
                    EscalationTimer.done_at.is_(None),
                    EscalationTimer.due_at <= now,
                    EscalationTimer.alert_id.not_in(select(Alert.id).where(Alert.audience_progress_at.is_not(None))),
                )
                .order_by(EscalationTimer.due_at, EscalationTimer.id)
                .limit(limit)
            )
        )
    ran = 0
    for timer_id in due:
        with database.session() as session:
            claimed = session.execute(
                update(EscalationTimer)
                .where(EscalationTimer.id == timer_id, EscalationTimer.done_at.is_(None))
                .values(done_at=now),
                execution_options={"synchronize_session": False},
            )
            if not getattr(claimed, "rowcount", 0):
                continue
            timer = session.get(EscalationTimer, timer_id)
            assert timer is not None
            delivery_ids = _run(session, timer, now)
        ran += 1
        enqueue_deliveries(delivery_ids)
    return ran
