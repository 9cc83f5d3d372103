"""Alert workflows: create and dispatch, cancel, acknowledge on someone's behalf."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select, true, update
from sqlalchemy.exc import IntegrityError

from alerting import acknowledgements, counts, service, targets
from alerting.audience import queue_audience
from alerting.call_scripts import alert_call
from alerting.config import EscalationPolicy, alerting_config
from alerting.dispatch import FIRST_BATCH_SIZE, enqueue_deliveries
from alerting.escalation import schedule_timers
from alerting.messages import MessageContent, alert_content, render_email, render_sms, translations_of
from alerting.models import (
    AckMethod,
    Alert,
    AlertStatus,
    Channel,
    Delivery,
    DeliveryKind,
    DeliveryState,
    EscalationTimer,
)
from alerting.schemas import (
    AlertCreate,
    AlertEventRead,
    AlertRead,
    AlertSummary,
    AlertText,
    Counts,
    OrganisationCounts,
    PollAnswer,
)
from alerting.segments import SegmentCount, count_segments
from alueturva.audit import service as audit
from alueturva.db import get_database, utcnow
from alueturva.errors import Conflict, Invalid
from alueturva.localized import Version, version_label
from alueturva.settings import get_settings


@dataclass(frozen=True)
class CreatedAlert:
    alert_id: int
    created: bool  # False when the idempotency key named an existing alert
    deliveries: int


SMS_KINDS = ("alert", "reminder")
NULL_MEANS_NEVER = frozenset({"deputy_after_minutes", "notify_operator_after_minutes", "call_after_minutes"})


@dataclass(frozen=True)
class Policy:
    escalation: EscalationPolicy
    close_after: float
    groups_may_call: bool  # neither the request nor the configuration says when to call: each group's own setting


def _policy(request: AlertCreate) -> Policy:
    """The configured policy with the request's overrides. ``null`` turns the deputy, operator and call steps off
    and keeps the default for everything else."""
    config = alerting_config()
    given = request.escalation.model_dump(exclude_unset=True) if request.escalation else {}
    overrides = {key: value for key, value in given.items() if value is not None or key in NULL_MEANS_NEVER}
    close_after = overrides.pop("close_after_minutes", None) or config.close_after_minutes
    policy = EscalationPolicy.model_validate({**config.escalation.model_dump(), **overrides})
    groups_may_call = "call_after_minutes" not in overrides and policy.call_after_minutes is None
    return Policy(policy, close_after, groups_may_call)


VERSION_NAMES = {
    ("fi",): "Finnish",
    ("sv",): "Swedish",
    ("en",): "English",
    ("fi", "sv"): "Finnish and Swedish together (for readers in bilingual organisations with no text of their own)",
}


def sms_segments(content: MessageContent, versions: Iterable[Version]) -> dict[tuple[Version, str], SegmentCount]:
    """How many segments each version's alert and reminder SMS take (what the length check counts; a page that
    shows the operator the counts before sending uses it too)."""
    return {
        (version, kind): count_segments(render_sms(content, kind=kind, version=version))
        for version in sorted(set(versions))
        for kind in ("alert", "reminder")
    }


class SmsTooLong(Invalid):
    """An SMS version of the alert would take more segments than ``ALUETURVA_SMS_MAX_SEGMENTS`` allows (a 422 that
    names the version); nothing was written or sent."""


def check_sms_length(content: MessageContent, versions: Iterable[Version]) -> None:
    """Refuse an alert one of whose SMS versions would exceed the segment limit, naming the version. Called inside
    the alert's transaction: raising rolls it back, so nothing is committed or sent."""
    limit = get_settings().sms_max_segments
    for (version, kind), count in sms_segments(content, versions).items():
        if count.segments > limit:
            raise SmsTooLong(
                f"the {VERSION_NAMES.get(version, version_label(version))} {kind} SMS ({version_label(version)}) "
                f"would take {count.segments} segments ({count.encoding}, {count.units} units); the limit is "
                f"{limit} (ALUETURVA_SMS_MAX_SEGMENTS): shorten its title, message or response options"
            )


RENDER_CHECK_ADDRESS = "render-check@example.invalid"


def possible_versions(content: MessageContent) -> list[Version]:
    """Every version of the alert some reader can get (``versions_for``): each of its languages alone, and Finnish
    with Swedish together when it has Swedish."""
    versions: list[Version] = [(language,) for language in content.languages]
    return versions + ([("fi", "sv")] if "sv" in content.languages else [])


def check_renderable(content: MessageContent) -> None:
    """Render every message the alert can become (each version, kind and channel) before anything is written: a
    template that cannot render it refuses the alert with a 422 now, instead of failing its deliveries later."""
    ack_link = f"{get_settings().public_base_url.rstrip('/')}/ack/render-check"
    for version in possible_versions(content):
        for kind in DeliveryKind:
            for channel in Channel:
                try:
                    if channel is Channel.sms:
                        render_sms(content, kind=kind.value, version=version)
                    elif channel is Channel.voice:
                        alert_call(content, kind=kind.value, version=version)
                    else:
                        render_email(
                            content, kind=kind.value, version=version, to=RENDER_CHECK_ADDRESS, ack_url=ack_link
                        )
                except Exception as exc:
                    raise Invalid(
                        f"the alert cannot be rendered as the {kind.value} {channel.value} in "
                        f"'{version_label(version)}' ({type(exc).__name__}: {exc}); nothing was sent. Check the "
                        "title and message, and the message templates in config/templates/"
                    ) from exc


def _existing(key: str) -> CreatedAlert | None:
    with get_database().session() as session:
        alert = service.find_by_idempotency_key(session, key=key)
        return None if alert is None else CreatedAlert(alert.id, created=False, deliveries=0)


def create_alert(
    request: AlertCreate, *, actor: str, now: datetime | None = None, dispatch: bool = True
) -> CreatedAlert:
    """Resolve the targets and write the alert with its first batch of recipients and deliveries in one
    transaction, then dispatch that batch; a larger alert's other people are made recipients in chunks after it
    (``alerting.audience``), so that the first message does not wait for thousands of rows.

    A repeated ``idempotency_key`` returns the existing alert and sends nothing (also when two requests race:
    the unique constraint decides and the loser returns the winner's alert). ``dispatch=False`` writes an alert of
    the past (the demo's history) whole, without queueing its deliveries; the caller settles them.
    """
    if request.idempotency_key and (existing := _existing(request.idempotency_key)):
        return existing
    now = now or utcnow()
    policy = _policy(request)
    close_after = policy.close_after
    channels = [Channel(name) for name in (request.channels or alerting_config().default_channels)]
    content = MessageContent(
        title=request.title,
        message=request.message,
        exercise=request.exercise,
        code="0000",  # chosen inside the transaction (``service.free_short_code``); the same length
        options=tuple(request.response_options),
    )
    check_renderable(content)
    try:
        with get_database().session() as session:
            content = replace(content, code=service.free_short_code(session))
            resolved = targets.resolve_references(session, request.targets)
            people = targets.targeted_people(session, targets=resolved)
            if not people:
                raise Invalid("the targets resolve to nobody: no active person matches them")
            if Channel.sms in channels:  # raising here rolls everything back: nothing is written or sent
                check_sms_length(content, targets.sms_versions(session, targets=resolved, languages=content.languages))
            first, rest = (people[:FIRST_BATCH_SIZE], people[FIRST_BATCH_SIZE:]) if dispatch else (people, [])
            alert = Alert(
                title=request.title.fi,
                message=request.message.fi,
                translations=translations_of(request.title, request.message, request.response_options),
                exercise=request.exercise,
                status=AlertStatus.open,
                short_code=content.code,
                channels=[channel.value for channel in channels],
                targets=resolved.model_dump(),
                response_options=[option.fi for option in request.response_options],
                escalation={**policy.escalation.model_dump(), "close_after_minutes": close_after},
                notify_email=request.notify_email,
                idempotency_key=request.idempotency_key,
                created_by=actor,
                created_at=now,
                closes_at=now + timedelta(minutes=close_after),
                audience=rest or None,
                audience_done=0,
                audience_progress_at=now if rest else None,
            )
            session.add(alert)
            session.flush()
            targets.add_recipients(session, alert_id=alert.id, person_ids=first, now=now)
            delivery_ids = service.add_deliveries(
                session,
                alert_id=alert.id,
                recipients=true(),
                channels=channels,
                kind=DeliveryKind.alert,
                round_=0,
                now=now,
            )
            group_calls = targets.group_calls(session, resolved) if policy.groups_may_call else {}
            if group_calls:
                alert.escalation = {**alert.escalation, "group_calls": {str(k): v for k, v in group_calls.items()}}
            schedule_timers(
                session,
                alert_id=alert.id,
                policy=policy.escalation,
                created_at=now,
                closes_at=alert.closes_at,
                group_calls=group_calls,
            )
            planned = targets.addresses(session, targets=resolved, channels=channels) if rest else len(delivery_ids)
            audit.record(
                session,
                actor=actor,
                action="alert.send",
                entity_type="alert",
                entity_id=alert.id,
                details={
                    "exercise": request.exercise,
                    "languages": list(content.languages),
                    "recipients": len(people),
                    "deliveries": planned,
                    "channels": alert.channels,
                    "targets": alert.targets,
                },
            )
            alert_id = alert.id
    except IntegrityError:
        if request.idempotency_key and (existing := _existing(request.idempotency_key)):
            return existing
        raise
    if dispatch:
        enqueue_deliveries(delivery_ids)
    if rest:
        queue_audience(alert_id)
    return CreatedAlert(alert_id, created=True, deliveries=planned)


def _notice(recipient_id: int, channel: Channel, address: str) -> tuple[int, Channel, str]:
    """How a cancellation reaches someone a message or call reached: on the same channel, but by SMS for a call
    (nobody is woken again to hear that nothing is needed)."""
    return recipient_id, Channel.sms if channel is Channel.voice else channel, address


def cancel_alert(*, alert_id: int, actor: str, reason: str | None = None, now: datetime | None = None) -> int:
    """Stop escalation and unsent messages, and tell everyone already alerted. Returns the notices queued."""
    now = now or utcnow()
    with get_database().session() as session:
        alert = service.get_alert(session, alert_id=alert_id, for_update=True)
        if alert.status is AlertStatus.cancelled:
            return 0
        if alert.status is AlertStatus.closed:
            raise Conflict(f"alert {alert_id} is already closed; there is nothing to cancel")
        alert.status = AlertStatus.cancelled
        alert.cancelled_at = now
        alert.cancelled_by = actor
        alert.cancel_reason = reason
        session.execute(
            update(EscalationTimer)
            .where(EscalationTimer.alert_id == alert_id, EscalationTimer.done_at.is_(None))
            .values(done_at=now),
            execution_options={"synchronize_session": False},
        )
        unsent = session.execute(
            update(Delivery)
            .where(Delivery.alert_id == alert_id, Delivery.state == DeliveryState.queued)
            .values(state=DeliveryState.cancelled, next_attempt_at=None),
            execution_options={"synchronize_session": False},
        )
        reached = session.execute(
            select(Delivery.recipient_id, Delivery.channel, Delivery.address)
            .where(
                Delivery.alert_id == alert_id,
                Delivery.kind != DeliveryKind.cancel,
                Delivery.state.in_(
                    [DeliveryState.sending, DeliveryState.sent, DeliveryState.delivered, DeliveryState.undelivered]
                ),
            )
            .distinct()
        ).all()
        items = sorted({_notice(row.recipient_id, Channel(row.channel), row.address) for row in reached})
        notice_ids = service.insert_deliveries(
            session, alert_id=alert_id, items=items, kind=DeliveryKind.cancel, round_=-1
        )
        service.add_event(session, alert_id=alert_id, kind="cancelled", details={"by": actor, "reason": reason})
        audit.record(
            session,
            actor=actor,
            action="alert.cancel",
            entity_type="alert",
            entity_id=alert_id,
            details={
                "reason": reason,
                "unsent_cancelled": int(getattr(unsent, "rowcount", 0) or 0),
                "notices": len(notice_ids),
            },
        )
    enqueue_deliveries(notice_ids)
    return len(notice_ids)


def acknowledge_on_behalf(
    *, alert_id: int, recipient_id: int, actor: str, response: int | None, note: str | None
) -> acknowledgements.AckOutcome:
    """An operator records that someone acknowledged another way (they phoned in)."""
    with get_database().session() as session:
        recipient = service.get_recipient(session, alert_id=alert_id, recipient_id=recipient_id)
        return acknowledgements.acknowledge(
            session,
            recipient=recipient,
            method=AckMethod.operator,
            actor=actor,
            response=response,
            details={"note": note} if note else None,
        )


def alert_status(alert_id: int) -> AlertRead:
    """Status, counts (whole alert and per organisation), delivery states and events of one alert."""
    with get_database().session() as session:
        alert = service.get_alert(session, alert_id=alert_id)
        totals, by_org = counts.alert_counts(session, alert_id=alert_id)
        content = alert_content(alert)
        return AlertRead(
            **AlertSummary.model_validate(alert).model_dump(),
            message=alert.message,
            texts={
                language: AlertText(
                    title=content.title[language],
                    message=content.message[language],
                    response_options=[option[language] for option in content.options],
                )
                for language in content.languages
            },
            short_code=alert.short_code,
            channels=alert.channels,
            response_options=alert.response_options,
            escalation=alert.escalation,
            closed_at=alert.closed_at,
            cancelled_at=alert.cancelled_at,
            cancel_reason=alert.cancel_reason,
            counts=Counts(**totals),
            answers=_answers(alert.response_options, counts.poll_answers(session, alert_id=alert_id)),
            deliveries=counts.delivery_state_counts(session, alert_id=alert_id),
            by_organisation=[OrganisationCounts(**row) for row in by_org],
            events=[
                AlertEventRead(at=event.at, kind=event.kind, details=event.details)
                for event in service.alert_events(session, alert_id=alert_id)
            ],
        )


def _answers(options: list[str], chosen: dict[int, int]) -> list[PollAnswer]:
    return [PollAnswer(option=n, text=text, count=chosen.get(n, 0)) for n, text in enumerate(options, 1)]
