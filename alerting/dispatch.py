"""Sending deliveries: the queue job, the atomic claim, recording outcomes, and the sweeper that loses nothing.

One job handles a batch of deliveries: it claims them in one ``UPDATE ... RETURNING`` (only rows still queued, or
whose previous claim has expired), sends them concurrently from a thread pool, and records each outcome in its own
short transaction right after the provider answered. A worker that dies leaves rows in ``sending`` with an expiring
claim; a flushed queue leaves rows in ``queued``; the sweeper finds both and enqueues them again.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from alerting.channels import PermanentSendError, TransientSendError, email_sender, sms_sender
from alerting.messages import MessageContent, render_email, render_sms
from alerting.models import Alert, Channel, Delivery, DeliveryKind, DeliveryState, Recipient
from alerting.ratelimit import sms_rate_limiter
from alerting.tokens import ack_url
from alueturva.db import get_database, utcnow
from alueturva.queue import JobQueue, get_queue
from alueturva.settings import get_settings

log = logging.getLogger(__name__)

SWEEP_LIMIT = 20_000


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    channel: Channel
    attempts: int
    to: str
    sms_body: str | None = None
    email: EmailMessage | None = None


@dataclass(frozen=True)
class Retry:
    delivery_id: int
    delay: float


def content_of(alert: Alert) -> MessageContent:
    return MessageContent(
        title=alert.title,
        message=alert.message,
        exercise=alert.exercise,
        code=alert.short_code,
        options=tuple(alert.response_options),
    )


# --- enqueueing -------------------------------------------------------------------------------------------------


def _batches(ids: Sequence[int], size: int) -> list[list[int]]:
    return [list(ids[start : start + size]) for start in range(0, len(ids), size)]


def enqueue_deliveries(
    delivery_ids: Sequence[int], *, delay: timedelta | None = None, queue: JobQueue | None = None
) -> None:
    """Queue send jobs for these deliveries, a batch per job; all batches in one round trip when possible."""
    if not delivery_ids:
        return
    queue = queue or get_queue()
    batches = _batches(sorted(delivery_ids), get_settings().send_batch_size)
    enqueue_many: Callable[[Any, list[tuple[Any, ...]]], None] | None = getattr(queue, "enqueue_many", None)
    if delay is None and enqueue_many is not None:
        enqueue_many(send_batch, [(batch,) for batch in batches])
        return
    for batch in batches:
        queue.enqueue(send_batch, batch, delay=delay)


# --- the send job -----------------------------------------------------------------------------------------------


def claim(session: Session, *, delivery_ids: Sequence[int], now: datetime) -> list[Any]:
    """Atomically take the deliveries that are due (queued, or claimed by a worker whose lease ran out)."""
    settings = get_settings()
    due = or_(
        and_(
            Delivery.state == DeliveryState.queued,
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        ),
        and_(Delivery.state == DeliveryState.sending, Delivery.claimed_until < now),
    )
    statement = (
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids), Delivery.attempts < settings.delivery_max_attempts, due)
        .values(
            state=DeliveryState.sending,
            claimed_until=now + timedelta(seconds=settings.delivery_claim_lease_seconds),
            attempts=Delivery.attempts + 1,
        )
        .returning(
            Delivery.id,
            Delivery.alert_id,
            Delivery.recipient_id,
            Delivery.channel,
            Delivery.kind,
            Delivery.address,
            Delivery.attempts,
        )
    )
    return list(session.execute(statement, execution_options={"synchronize_session": False}).all())


def _prepare(session: Session, claimed: Sequence[Any]) -> list[Outgoing]:
    """Render each claimed delivery's message (SMS texts are shared per alert, language and kind)."""
    alerts = {
        alert.id: alert
        for alert in session.scalars(select(Alert).where(Alert.id.in_({row.alert_id for row in claimed})))
    }
    languages = dict(
        session.execute(
            select(Recipient.id, Recipient.language).where(Recipient.id.in_({row.recipient_id for row in claimed}))
        ).all()
    )
    sms_texts: dict[tuple[int, str, str], str] = {}
    outgoing = []
    for row in claimed:
        alert, language, kind = alerts[row.alert_id], languages[row.recipient_id], DeliveryKind(row.kind).value
        if Channel(row.channel) is Channel.sms:
            key = (alert.id, language, kind)
            if key not in sms_texts:
                sms_texts[key] = render_sms(content_of(alert), kind=kind, language=language)
            outgoing.append(Outgoing(row.id, Channel.sms, row.attempts, row.address, sms_body=sms_texts[key]))
        else:
            message = render_email(
                content_of(alert),
                kind=kind,
                language=language,
                to=row.address,
                ack_url=ack_url(alert_id=alert.id, recipient_id=row.recipient_id),
            )
            outgoing.append(Outgoing(row.id, Channel.email, row.attempts, row.address, email=message))
    return outgoing


def status_callback_url(delivery_id: int) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/webhooks/twilio/status?delivery={delivery_id}"


def _call_provider(item: Outgoing) -> str:
    reference = f"delivery:{item.delivery_id}"
    if item.channel is Channel.sms:
        assert item.sms_body is not None
        sms_rate_limiter().acquire()
        return sms_sender().send_sms(
            to=item.to, body=item.sms_body, status_callback=status_callback_url(item.delivery_id), reference=reference
        )
    assert item.email is not None
    return email_sender().send_email(message=item.email, reference=reference)


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter: base, 2 x base, 4 x base ... capped."""
    settings = get_settings()
    delay = min(settings.delivery_retry_max_seconds, settings.delivery_retry_base_seconds * 2 ** (attempts - 1))
    return delay * random.uniform(0.8, 1.0)


def record_sent(*, delivery_id: int, provider_id: str) -> None:
    """Store the provider's id; the state moves to ``sent`` unless a status callback already moved it further."""
    now = utcnow()
    with get_database().session() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(
                provider_id=provider_id,
                sent_at=func.coalesce(Delivery.sent_at, now),
                state=case((Delivery.state == DeliveryState.sending, DeliveryState.sent.value), else_=Delivery.state),
                claimed_until=None,
                next_attempt_at=None,
            ),
            execution_options={"synchronize_session": False},
        )


def record_failed(*, delivery_id: int, code: str, message: str) -> None:
    now = utcnow()
    with get_database().session() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.state == DeliveryState.sending)
            .values(
                state=DeliveryState.failed,
                failed_at=now,
                claimed_until=None,
                next_attempt_at=None,
                error_code=code[:40],
                error_message=message[:500],
            ),
            execution_options={"synchronize_session": False},
        )


def record_retry(*, delivery_id: int, code: str, message: str, delay: float) -> None:
    due = utcnow() + timedelta(seconds=delay)
    with get_database().session() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.state == DeliveryState.sending)
            .values(
                state=DeliveryState.queued,
                claimed_until=None,
                next_attempt_at=due,
                enqueued_at=due,
                error_code=code[:40],
                error_message=message[:500],
            ),
            execution_options={"synchronize_session": False},
        )


def deliver(item: Outgoing) -> Retry | None:
    """Send one claimed delivery and record what happened; returns a retry when the error was transient."""
    try:
        provider_id = _call_provider(item)
    except PermanentSendError as exc:
        record_failed(delivery_id=item.delivery_id, code=exc.code, message=exc.message)
        return None
    except Exception as exc:  # transient provider errors, and anything unexpected: try again later
        if isinstance(exc, TransientSendError):
            code, message = exc.code, exc.message
        else:
            code, message = "error", f"unexpected {type(exc).__name__}"
            log.warning(
                "send failed unexpectedly", extra={"delivery_id": item.delivery_id, "error": type(exc).__name__}
            )
        if item.attempts >= get_settings().delivery_max_attempts:
            record_failed(
                delivery_id=item.delivery_id,
                code=code,
                message=f"gave up after {item.attempts} attempts; last error: {message}",
            )
            return None
        delay = retry_delay(item.attempts)
        record_retry(delivery_id=item.delivery_id, code=code, message=message, delay=delay)
        return Retry(item.delivery_id, delay)
    record_sent(delivery_id=item.delivery_id, provider_id=provider_id)
    return None


def _enqueue_retries(retries: Sequence[Retry]) -> None:
    """Retries with the same attempt count have nearly the same delay: one delayed job per group."""
    groups: dict[int, list[Retry]] = defaultdict(list)
    for retry in retries:
        groups[round(retry.delay)].append(retry)
    for group in groups.values():
        delay = max(retry.delay for retry in group)
        enqueue_deliveries([retry.delivery_id for retry in group], delay=timedelta(seconds=delay))


def send_batch(delivery_ids: list[int]) -> int:
    """The queue job: claim, send concurrently, record. Returns how many deliveries this job claimed."""
    settings = get_settings()
    with get_database().session() as session:
        claimed = claim(session, delivery_ids=delivery_ids, now=utcnow())
        outgoing = _prepare(session, claimed) if claimed else []
    if not outgoing:
        return 0
    workers = min(settings.send_concurrency, len(outgoing))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="alerting-send") as pool:
        results = list(pool.map(deliver, outgoing))
    retries = [result for result in results if result is not None]
    if retries:
        _enqueue_retries(retries)
    return len(outgoing)


# --- the sweeper ------------------------------------------------------------------------------------------------


def _fail_exhausted_claims(session: Session, *, now: datetime) -> int:
    """A claim that expired on the last allowed attempt: the worker is gone and no attempt is left."""
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.state == DeliveryState.sending,
            Delivery.claimed_until < now,
            Delivery.attempts >= get_settings().delivery_max_attempts,
        )
        .values(
            state=DeliveryState.failed,
            failed_at=now,
            claimed_until=None,
            error_code="worker_lost",
            error_message="the worker making the last allowed attempt stopped before recording an answer",
        ),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _stranded(session: Session, *, now: datetime) -> list[int]:
    """Queued rows nobody picked up in time (a lost job) and rows whose claim expired (a lost worker)."""
    stale_before = now - timedelta(seconds=get_settings().delivery_requeue_after_seconds)
    return list(
        session.scalars(
            select(Delivery.id)
            .where(
                or_(
                    and_(Delivery.state == DeliveryState.queued, Delivery.enqueued_at <= stale_before),
                    and_(Delivery.state == DeliveryState.sending, Delivery.claimed_until < now),
                )
            )
            .order_by(Delivery.id)
            .limit(SWEEP_LIMIT)
        )
    )


def requeue_stranded(*, now: datetime | None = None) -> int:
    now = now or utcnow()
    with get_database().session() as session:
        _fail_exhausted_claims(session, now=now)
        ids = _stranded(session, now=now)
        for chunk in _batches(ids, 1000):
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(chunk), Delivery.state == DeliveryState.queued)
                .values(enqueued_at=now),
                execution_options={"synchronize_session": False},
            )
    if ids:
        log.info("re-enqueued stranded deliveries", extra={"count": len(ids)})
        enqueue_deliveries(ids)
    return len(ids)


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic task: re-enqueue stranded deliveries, then run the escalation steps that are due."""
    from alerting.escalation import run_due_timers

    requeued = requeue_stranded(now=now)
    steps = run_due_timers(now=now)
    return {"requeued": requeued, "escalation_steps": steps}
