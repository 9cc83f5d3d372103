"""Sending deliveries: the queue job, the atomic claim, recording outcomes, and the sweeper that loses nothing.

One job handles a batch of deliveries: it claims them in one ``UPDATE ... RETURNING`` (only rows still queued, or
whose previous claim has expired), sends them concurrently from one asyncio event loop, and records each outcome in
its own short transaction right after the provider answered. A worker that dies leaves rows in ``sending`` with an
expiring claim; a flushed queue leaves rows in ``queued``; the sweeper finds both and enqueues them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from functools import partial
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from alerting.channels import (
    SendError,
    SmsSender,
    TransientSendError,
    email_sender,
    open_sms_sender,
)
from alerting.messages import MessageContent, render_email, render_sms
from alerting.models import Alert, Channel, Delivery, DeliveryKind, DeliveryState, Recipient
from alerting.ratelimit import RateLimiter, open_sms_rate_limiter
from alerting.service import id_in
from alerting.tokens import ack_url
from alueturva.db import UTCDateTime, get_database, utcnow
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


MAX_JOBS_PER_FAN_OUT = 16
FIRST_BATCH_SIZE = 25  # a small first job: the first messages go out while the big batches are being claimed
MAX_BATCH_SIZE = 1000


def batch_size(deliveries: int) -> int:
    """``SEND_BATCH_SIZE``, grown for big fan-outs so that one is split into at most 16 jobs (each job has a fixed
    start-up cost: a forked process, a database connection, an HTTP connection pool)."""
    wanted = -(-deliveries // MAX_JOBS_PER_FAN_OUT)
    return max(get_settings().send_batch_size, min(MAX_BATCH_SIZE, wanted))


def enqueue_deliveries(
    delivery_ids: Sequence[int], *, delay: timedelta | None = None, queue: JobQueue | None = None
) -> None:
    """Queue send jobs for these deliveries, a batch per job; all batches in one round trip when possible.

    The rows are already committed, so a queue that cannot be reached loses nothing: the sweeper enqueues them
    again once ``DELIVERY_REQUEUE_AFTER_SECONDS`` have passed.
    """
    if not delivery_ids:
        return
    ordered = sorted(delivery_ids)
    head = ordered[:FIRST_BATCH_SIZE] if delay is None else []
    batches = ([head] if head else []) + _batches(ordered[len(head) :], batch_size(len(ordered)))
    try:
        queue = queue or get_queue()
        enqueue_many: Callable[[Any, list[tuple[Any, ...]]], None] | None = getattr(queue, "enqueue_many", None)
        if delay is None and enqueue_many is not None:
            enqueue_many(send_batch, [(batch,) for batch in batches])
            return
        for batch in batches:
            queue.enqueue(send_batch, batch, delay=delay)
    except Exception as exc:
        log.warning(
            "queue unavailable; the sweeper will enqueue these deliveries",
            extra={"deliveries": len(delivery_ids), "error": type(exc).__name__},
        )


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
        .where(id_in(session, Delivery.id, delivery_ids), Delivery.attempts < settings.delivery_max_attempts, due)
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


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter: base, 2 x base, 4 x base ... capped."""
    settings = get_settings()
    delay = min(settings.delivery_retry_max_seconds, settings.delivery_retry_base_seconds * 2 ** (attempts - 1))
    return delay * random.uniform(0.8, 1.0)


# --- recording outcomes -----------------------------------------------------------------------------------------
# Built once: executed many times per transaction (executemany) by the recorder.

_table = cast(Table, Delivery.__table__)
_RECORD_SENT = (
    update(_table)
    .where(_table.c.id == bindparam("b_id"))
    .values(
        provider_id=bindparam("b_provider_id"),
        sent_at=func.coalesce(_table.c.sent_at, bindparam("b_now", type_=UTCDateTime())),
        # a status callback may already have moved the delivery further: then the state stays
        state=case((_table.c.state == DeliveryState.sending.name, DeliveryState.sent.name), else_=_table.c.state),
        claimed_until=None,
        next_attempt_at=None,
    )
)
_RECORD_FAILED = (
    update(_table)
    .where(_table.c.id == bindparam("b_id"), _table.c.state == DeliveryState.sending)
    .values(
        state=DeliveryState.failed,
        failed_at=bindparam("b_now", type_=UTCDateTime()),
        claimed_until=None,
        next_attempt_at=None,
        error_code=bindparam("b_code"),
        error_message=bindparam("b_message"),
    )
)
_RECORD_RETRY = (
    update(_table)
    .where(_table.c.id == bindparam("b_id"), _table.c.state == DeliveryState.sending)
    .values(
        state=DeliveryState.queued,
        claimed_until=None,
        next_attempt_at=bindparam("b_due", type_=UTCDateTime()),
        enqueued_at=bindparam("b_due", type_=UTCDateTime()),
        error_code=bindparam("b_code"),
        error_message=bindparam("b_message"),
    )
)
_STATEMENTS = {"sent": _RECORD_SENT, "failed": _RECORD_FAILED, "retry": _RECORD_RETRY}


@dataclass(frozen=True)
class Attempt:
    """What the provider said: an id, or an error (transient or not)."""

    provider_id: str | None = None
    error: SendError | None = None


@dataclass(frozen=True)
class Outcome:
    kind: str  # "sent", "failed" or "retry"
    params: dict[str, Any]
    retry: Retry | None = None


def outcome_of(item: Outgoing, attempt: Attempt) -> Outcome:
    """Sent; failed for good (a permanent error, or a transient one on the last attempt); or to be retried."""
    now = utcnow()
    if attempt.provider_id is not None:
        return Outcome("sent", {"b_id": item.delivery_id, "b_provider_id": attempt.provider_id, "b_now": now})
    error = attempt.error
    assert error is not None
    message = error.message
    if isinstance(error, TransientSendError) and item.attempts < get_settings().delivery_max_attempts:
        delay = retry_delay(item.attempts)
        params = {"b_due": now + timedelta(seconds=delay), "b_code": error.code[:40], "b_message": message[:500]}
        return Outcome("retry", {"b_id": item.delivery_id, **params}, Retry(item.delivery_id, delay))
    if isinstance(error, TransientSendError):
        message = f"gave up after {item.attempts} attempts; last error: {message}"
    params = {"b_now": now, "b_code": error.code[:40], "b_message": message[:500]}
    return Outcome("failed", {"b_id": item.delivery_id, **params})


def write_outcomes(outcomes: Sequence[Outcome]) -> None:
    """One transaction for many outcomes (one executemany per kind)."""
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for outcome in outcomes:
        by_kind[outcome.kind].append(outcome.params)
    with get_database().engine.begin() as connection:
        for kind, params in by_kind.items():
            connection.execute(_STATEMENTS[kind], params)


class Recorder:
    """Writes outcomes as they arrive: while one write is running, the next outcomes gather for the following one.

    So each provider id is stored a few milliseconds after the provider gave it, without a transaction per message.
    """

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self._executor = executor
        self._pending: list[Outcome] = []
        self._wakeup = asyncio.Event()
        self._closing = False
        self._task = asyncio.create_task(self._run())

    def add(self, outcome: Outcome) -> None:
        self._pending.append(outcome)
        self._wakeup.set()

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch, self._pending = self._pending, []
                await asyncio.get_running_loop().run_in_executor(self._executor, write_outcomes, batch)
            if self._closing:
                return

    async def close(self) -> None:
        """Wait until everything added has been written (raises if a write failed)."""
        self._closing = True
        self._wakeup.set()
        await self._task


def renew_claims(delivery_ids: Sequence[int], *, lease_seconds: float) -> None:
    """Extend this job's claims that have not run out (one that ran out may already be another worker's)."""
    now = utcnow()
    with get_database().engine.begin() as connection:
        connection.execute(
            update(_table)
            .where(
                _table.c.id.in_(list(delivery_ids)),
                _table.c.state == DeliveryState.sending,
                _table.c.claimed_until >= now,
            )
            .values(claimed_until=now + timedelta(seconds=lease_seconds))
        )


class ClaimKeeper:
    """Renews the job's claims while its deliveries wait for their turn (rate limit, free slots), so a long batch
    is not taken over by the sweeper; if the worker dies, the renewals stop and the claims run out."""

    def __init__(self, delivery_ids: Sequence[int], executor: ThreadPoolExecutor) -> None:
        self._executor = executor
        self._open = set(delivery_ids)
        self._lease = get_settings().delivery_claim_lease_seconds
        self._task = asyncio.create_task(self._run())

    def finished(self, delivery_id: int) -> None:
        self._open.discard(delivery_id)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            if self._open:
                renew = partial(renew_claims, sorted(self._open), lease_seconds=self._lease)
                await asyncio.get_running_loop().run_in_executor(self._executor, renew)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


# --- sending ----------------------------------------------------------------------------------------------------


@dataclass
class Senders:
    """The channels of one send job, made inside its event loop."""

    sms: SmsSender | None
    limiter: RateLimiter | None
    slots: asyncio.Semaphore
    first_request_at: float | None = None  # time.perf_counter() of the job's first provider request

    async def close(self) -> None:
        if self.sms is not None:
            await self.sms.close()
        if self.limiter is not None:
            await self.limiter.close()


async def _call_provider(item: Outgoing, senders: Senders) -> str:
    reference = f"delivery:{item.delivery_id}"
    if item.channel is Channel.sms:
        assert item.sms_body is not None and senders.sms is not None and senders.limiter is not None
        await senders.limiter.wait_turn()
        senders.first_request_at = senders.first_request_at or time.perf_counter()
        return await senders.sms.send_sms(
            to=item.to, body=item.sms_body, status_callback=status_callback_url(item.delivery_id), reference=reference
        )
    assert item.email is not None
    return await asyncio.to_thread(email_sender().send_email, message=item.email, reference=reference)


async def deliver(item: Outgoing, senders: Senders, recorder: Recorder, keeper: ClaimKeeper) -> Retry | None:
    """Send one claimed delivery and hand the outcome to the recorder at once."""
    async with senders.slots:
        try:
            attempt = Attempt(provider_id=await _call_provider(item, senders))
        except SendError as exc:
            attempt = Attempt(error=exc)
        except Exception as exc:  # anything unexpected is retried like a transient error
            error = type(exc).__name__
            log.warning("send failed unexpectedly", extra={"delivery_id": item.delivery_id, "error": error})
            attempt = Attempt(error=TransientSendError("error", f"unexpected {error}"))
    outcome = outcome_of(item, attempt)
    recorder.add(outcome)
    keeper.finished(item.delivery_id)
    return outcome.retry


async def _send_all(outgoing: Sequence[Outgoing]) -> tuple[list[Retry | None], float | None]:
    settings = get_settings()
    needs_sms = any(item.channel is Channel.sms for item in outgoing)
    senders = Senders(
        sms=open_sms_sender(connections=settings.send_concurrency) if needs_sms else None,
        limiter=open_sms_rate_limiter() if needs_sms else None,
        slots=asyncio.Semaphore(settings.send_concurrency),
    )
    # Database writes get threads of their own: emails to a mail server that does not answer must not hold up
    # recording SMS outcomes or renewing claims.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="alerting-record") as database_threads:
        recorder = Recorder(database_threads)
        keeper = ClaimKeeper([item.delivery_id for item in outgoing], database_threads)
        try:
            results = await asyncio.gather(*(deliver(item, senders, recorder, keeper) for item in outgoing))
            return list(results), senders.first_request_at
        finally:
            await keeper.close()
            await recorder.close()
            await senders.close()


def _enqueue_retries(retries: Sequence[Retry]) -> None:
    """Retries with the same attempt count have nearly the same delay: one delayed job per group."""
    groups: dict[int, list[Retry]] = defaultdict(list)
    for retry in retries:
        groups[round(retry.delay)].append(retry)
    for group in groups.values():
        delay = max(retry.delay for retry in group)
        enqueue_deliveries([retry.delivery_id for retry in group], delay=timedelta(seconds=delay))


def send_batch(delivery_ids: list[int]) -> int:
    """The queue job: claim, send concurrently (one event loop, ``SEND_CONCURRENCY`` requests in flight), record
    each outcome as it arrives. Returns how many deliveries this job claimed."""
    started = time.perf_counter()
    with get_database().session() as session:
        claimed = claim(session, delivery_ids=delivery_ids, now=utcnow())
        outgoing = _prepare(session, claimed) if claimed else []
    if not outgoing:
        return 0
    prepared = time.perf_counter()
    results, first_request_at = asyncio.run(_send_all(outgoing))
    retries = [result for result in results if result is not None]
    if retries:
        _enqueue_retries(retries)
    log.info(
        "send batch done",
        extra={
            "claimed": len(outgoing),
            "retries": len(retries),
            "claim_ms": round((prepared - started) * 1000, 1),
            "first_sms_ms": round((first_request_at - started) * 1000, 1) if first_request_at else None,
            "send_ms": round((time.perf_counter() - prepared) * 1000, 1),
        },
    )
    return len(outgoing)


def prime_send_path() -> None:
    """Run the send job's statements once against no rows, then close every connection.

    A forking worker (RQ runs each job in a fresh child) calls this at start-up, so each job begins with the
    database dialect initialised and its statements compiled instead of doing both again. Best effort: without a
    reachable, migrated database it just does nothing.
    """
    database = get_database()
    nothing = {"b_id": 0, "b_now": utcnow(), "b_due": utcnow(), "b_provider_id": "", "b_code": "", "b_message": ""}
    try:
        with database.sessionmaker() as session:
            _prepare(session, claim(session, delivery_ids=[0], now=utcnow()))
            session.rollback()
        with database.engine.connect() as connection:
            for statement in _STATEMENTS.values():
                connection.execute(statement, [nothing, nothing])
            connection.rollback()
    except SQLAlchemyError as exc:
        log.info("send path not primed", extra={"error": type(exc).__name__})
    finally:
        database.engine.dispose()


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
