"""Sending deliveries: enqueueing send jobs, and the job itself.

One job handles a batch of deliveries: it claims them in one ``UPDATE ... RETURNING`` (``alerting.claims``: only rows
still queued, or whose previous claim has expired), sends them concurrently from the worker thread's asyncio event
loop (kept with its provider connections from one job to the next: ``alerting.send_loop``), and records
each outcome (``alerting.outcomes``) in a short transaction right after the provider answered. A worker that dies
leaves rows in ``sending`` with an expiring claim; a flushed queue leaves rows in ``queued``; the sweeper
(``alerting.sweeper``) finds both and enqueues them again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from alerting.channels import (
    SendError,
    SmsSender,
    TransientSendError,
    VoiceCaller,
    email_sender,
)
from alerting.claims import ClaimKeeper, claim
from alerting.models import Channel
from alerting.outcomes import (
    RECORD_STATEMENTS,
    Attempt,
    Recorder,
    RecorderGaveUp,
    Retry,
    job_failed,
    outcome_of,
    unpreparable,
    write_outcomes,
)
from alerting.outgoing import Outgoing, prepare
from alerting.ratelimit import RateLimiter
from alerting.send_loop import WarmChannels, run_with_channels
from alueturva.db import get_database, utcnow
from alueturva.queue import JobQueue, get_queue
from alueturva.settings import get_settings

log = logging.getLogger(__name__)


MAX_JOBS_PER_FAN_OUT = 16
FIRST_BATCH_SIZE = 25  # a small first job: the first messages go out while the big batches are being claimed
MAX_BATCH_SIZE = 1000


def batches_of(ids: Sequence[int], size: int) -> list[list[int]]:
    return [list(ids[start : start + size]) for start in range(0, len(ids), size)]


def batch_size(deliveries: int) -> int:
    """``SEND_BATCH_SIZE``, grown for big fan-outs so that one is split into at most 16 jobs (each job has a fixed
    start-up cost: a forked process, a database connection, an HTTP connection pool)."""
    wanted = -(-deliveries // MAX_JOBS_PER_FAN_OUT)
    return max(get_settings().send_batch_size, min(MAX_BATCH_SIZE, wanted))


def enqueue_deliveries(
    delivery_ids: Sequence[int],
    *,
    delay: timedelta | None = None,
    queue: JobQueue | None = None,
    first_batch: bool = True,
) -> None:
    """Queue send jobs for these deliveries, a batch per job; all batches in one round trip when possible.
    ``first_batch``: the first ``FIRST_BATCH_SIZE`` get a small job of their own, so that they go out first (not for
    a delayed retry, nor for a large alert's later chunks, whose first messages are already out).

    The rows are already committed, so a queue that cannot be reached loses nothing: the sweeper enqueues them
    again once ``DELIVERY_REQUEUE_AFTER_SECONDS`` have passed.
    """
    if not delivery_ids:
        return
    ordered = sorted(delivery_ids)
    head = ordered[:FIRST_BATCH_SIZE] if delay is None and first_batch else []
    batches = ([head] if head else []) + batches_of(ordered[len(head) :], batch_size(len(ordered)))
    try:
        queue = queue or get_queue()
        if delay is None:
            queue.enqueue_many(send_batch, [(batch,) for batch in batches])
            return
        for batch in batches:
            queue.enqueue(send_batch, batch, delay=delay)
    except Exception as exc:
        log.warning(
            "queue unavailable; the sweeper will enqueue these deliveries",
            extra={"deliveries": len(delivery_ids), "error": type(exc).__name__},
        )


@dataclass
class Senders:
    """The channels of one send job (kept warm in the worker's send loop between jobs: ``alerting.send_loop``)."""

    sms: SmsSender | None
    limiter: RateLimiter | None
    voice: VoiceCaller | None
    call_limiter: RateLimiter | None
    slots: asyncio.Semaphore
    started: set[int]  # deliveries handed to a provider (or on their way): never released for another try
    first_request_at: float | None = None  # time.perf_counter() of the job's first provider request


async def _call_provider(item: Outgoing, senders: Senders, recorder: Recorder) -> str:
    if item.channel is Channel.sms:
        assert item.sms_body is not None and senders.sms is not None and senders.limiter is not None
        await senders.limiter.wait_turn()
    if item.channel is Channel.voice:
        assert senders.call_limiter is not None
        await senders.call_limiter.wait_turn()
    # right before the request: a message sent while its outcome cannot be recorded could go out twice
    await recorder.ready()
    senders.started.add(item.delivery_id)
    if item.channel is Channel.sms:
        assert item.sms_body is not None and senders.sms is not None
        senders.first_request_at = senders.first_request_at or time.perf_counter()
        return await senders.sms.send_sms(to=item.to, body=item.sms_body, delivery_id=item.delivery_id)
    if item.channel is Channel.voice:
        assert item.script is not None and senders.voice is not None
        return await senders.voice.place_call(to=item.to, delivery_id=item.delivery_id, script=item.script)
    assert item.email is not None
    return await asyncio.to_thread(
        email_sender().send_email, message=item.email, reference=f"delivery:{item.delivery_id}"
    )


async def deliver(item: Outgoing, senders: Senders, recorder: Recorder, keeper: ClaimKeeper) -> Retry | None:
    """Send one claimed delivery and hand the outcome to the recorder at once."""
    async with senders.slots:
        try:
            attempt = Attempt(provider_id=await _call_provider(item, senders, recorder))
        except RecorderGaveUp:
            raise
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


async def _send_all(
    outgoing: Sequence[Outgoing], started: set[int], channels: WarmChannels
) -> tuple[list[Retry | None], float | None]:
    settings = get_settings()
    sms, limiter = channels.sms() if any(item.channel is Channel.sms for item in outgoing) else (None, None)
    voice, call_limiter = channels.voice() if any(item.channel is Channel.voice for item in outgoing) else (None, None)
    senders = Senders(
        sms=sms,
        limiter=limiter,
        voice=voice,
        call_limiter=call_limiter,
        slots=asyncio.Semaphore(settings.send_concurrency),
        started=started,
    )
    # Database writes get threads of their own: emails to a mail server that does not answer must not hold up
    # recording SMS outcomes or renewing claims.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="alerting-record") as database_threads:
        recorder = Recorder(database_threads, patience=settings.delivery_claim_lease_seconds)
        keeper = ClaimKeeper([item.delivery_id for item in outgoing], database_threads)
        try:
            results = await asyncio.gather(*(deliver(item, senders, recorder, keeper) for item in outgoing))
            return list(results), senders.first_request_at
        finally:
            await keeper.close()
            await recorder.close()


def _enqueue_retries(retries: Sequence[Retry]) -> None:
    """Retries with the same attempt count have nearly the same delay: one delayed job per group."""
    groups: dict[int, list[Retry]] = defaultdict(list)
    for retry in retries:
        groups[round(retry.delay)].append(retry)
    for group in groups.values():
        delay = max(retry.delay for retry in group)
        enqueue_deliveries([retry.delivery_id for retry in group], delay=timedelta(seconds=delay))


def _hold_back(claimed: Sequence[Any], started: set[int], exc: Exception) -> None:
    """The job failed: its deliveries that never reached a provider are tried again with backoff (or fail once
    their attempts are used up), with the reason shown. Those handed to a provider are left to their claims: the
    sweeper takes them back when the lease runs out (docs/architecture.md §4)."""
    outcomes = [job_failed(row.id, row.attempts, exc) for row in claimed if row.id not in started]
    log.warning("send job failed", extra={"error": type(exc).__name__, "held_back": len(outcomes)})
    try:
        write_outcomes(outcomes)
    except SQLAlchemyError as write_error:
        log.warning("send job failure not recorded", extra={"error": type(write_error).__name__})
        return
    _enqueue_retries([outcome.retry for outcome in outcomes if outcome.retry is not None])


def _prepared(claimed: Sequence[Any]) -> list[Outgoing]:
    """The claimed deliveries' messages; those that cannot be prepared are recorded as failed at once."""
    with get_database().session() as session:
        outgoing, problems = prepare(session, claimed)
    if problems:
        write_outcomes([unpreparable(problem.delivery_id, problem.reason) for problem in problems])
    return outgoing


def send_batch(delivery_ids: list[int]) -> int:
    """The queue job: claim, send concurrently (one event loop, ``SEND_CONCURRENCY`` requests in flight), record
    each outcome as it arrives. Returns how many deliveries this job claimed.

    The claim is committed first, so every run of a job uses an attempt of each delivery it touches: a job that
    fails the same way again and again backs off and gives up (``_hold_back``) instead of running in a loop.
    """
    started_at = time.perf_counter()
    with get_database().session() as session:
        claimed = claim(session, delivery_ids=delivery_ids, now=utcnow())
    if not claimed:
        return 0
    started: set[int] = set()
    try:
        outgoing = _prepared(claimed)
        prepared = time.perf_counter()
        results, first_request_at = (
            run_with_channels(lambda channels: _send_all(outgoing, started, channels)) if outgoing else ([], None)
        )
    except Exception as exc:
        _hold_back(claimed, started, exc)
        raise
    retries = [result for result in results if result is not None]
    if retries:
        _enqueue_retries(retries)
    log.info(
        "send batch done",
        extra={
            "claimed": len(claimed),
            "retries": len(retries),
            "claim_ms": round((prepared - started_at) * 1000, 1),
            "first_sms_ms": round((first_request_at - started_at) * 1000, 1) if first_request_at else None,
            "send_ms": round((time.perf_counter() - prepared) * 1000, 1),
        },
    )
    return len(claimed)


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
            prepare(session, claim(session, delivery_ids=[0], now=utcnow()))  # no rows: nothing to record
            session.rollback()
        with database.engine.connect() as connection:
            for statement in RECORD_STATEMENTS.values():
                connection.execute(statement, [nothing, nothing])
            connection.rollback()
    except SQLAlchemyError as exc:
        log.info("send path not primed", extra={"error": type(exc).__name__})
    finally:
        database.engine.dispose()


def warm_up() -> None:
    """Import the channel modules, map the tables and prime the send path now.

    A worker calls this at start (``alueturva.app.bootstrap.boot(worker=True)``) before RQ starts forking a work horse
    per job, so that every job starts with all of it already in memory.
    """
    from sqlalchemy.orm import configure_mappers

    from alerting.channels import preload

    preload()
    if get_settings().redis_url:
        import redis.asyncio  # noqa: F401  (the shared SMS rate limit)
    configure_mappers()  # otherwise done again by each forked job on its first query
    prime_send_path()
