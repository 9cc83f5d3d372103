"""Recording what the provider said about each delivery: sent, failed for good, or to be retried later."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, update
from sqlalchemy.exc import SQLAlchemyError

from alerting.channels import SendError, TransientSendError
from alerting.models import Delivery, DeliveryState
from alerting.outgoing import Outgoing
from alueturva.db import UTCDateTime, get_database, utcnow
from alueturva.settings import get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retry:
    delivery_id: int
    delay: float


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter: base, 2 x base, 4 x base ... capped."""
    settings = get_settings()
    delay = min(settings.delivery_retry_max_seconds, settings.delivery_retry_base_seconds * 2 ** (attempts - 1))
    return delay * random.uniform(0.8, 1.0)


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
RECORD_STATEMENTS = {"sent": _RECORD_SENT, "failed": _RECORD_FAILED, "retry": _RECORD_RETRY}


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


def describe(exc: BaseException) -> str:
    """An exception in one line for an operator: its type and the first line of its message (a database error's
    own message, never the statement and its parameters)."""
    cause = getattr(exc, "orig", None) or exc
    first_line = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first_line}"[:300]


def error_outcome(delivery_id: int, attempts: int, error: SendError, *, address: str = "") -> Outcome:
    """Failed for good (a permanent error, or a transient one on the last attempt), or to be retried with backoff.
    The provider's message is stored without the recipient's address (providers repeat it: personal data)."""
    now = utcnow()
    message = error.message.replace(address, "<recipient>") if address else error.message
    if isinstance(error, TransientSendError) and attempts < get_settings().delivery_max_attempts:
        delay = retry_delay(attempts)
        params = {"b_due": now + timedelta(seconds=delay), "b_code": error.code[:40], "b_message": message[:500]}
        return Outcome("retry", {"b_id": delivery_id, **params}, Retry(delivery_id, delay))
    if isinstance(error, TransientSendError):
        message = f"gave up after {attempts} attempts; last error: {message}"
    params = {"b_now": now, "b_code": error.code[:40], "b_message": message[:500]}
    return Outcome("failed", {"b_id": delivery_id, **params})


def outcome_of(item: Outgoing, attempt: Attempt) -> Outcome:
    """Sent; failed for good; or to be retried (``error_outcome``)."""
    if attempt.provider_id is not None:
        now = utcnow()
        return Outcome("sent", {"b_id": item.delivery_id, "b_provider_id": attempt.provider_id, "b_now": now})
    assert attempt.error is not None
    return error_outcome(item.delivery_id, item.attempts, attempt.error, address=item.to)


def unpreparable(delivery_id: int, reason: str) -> Outcome:
    """A delivery whose message could not be made (a template error, an address no header can carry): it fails
    alone, at once; trying again would fail the same way."""
    message = f"the message could not be prepared: {reason}"
    return Outcome("failed", {"b_id": delivery_id, "b_now": utcnow(), "b_code": "unpreparable", "b_message": message})


def job_failed(delivery_id: int, attempts: int, exc: BaseException) -> Outcome:
    """The send job failed around this delivery before it reached the provider: tried again with backoff, and
    failed with the reason once its attempts are used up (never a job run again and again at once)."""
    return error_outcome(
        delivery_id, attempts, TransientSendError("job_failed", f"the send job failed: {describe(exc)}")
    )


def write_outcomes(outcomes: Sequence[Outcome]) -> None:
    """One transaction for many outcomes (one executemany per kind)."""
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for outcome in outcomes:
        by_kind[outcome.kind].append(outcome.params)
    with get_database().engine.begin() as connection:
        for kind, params in by_kind.items():
            connection.execute(RECORD_STATEMENTS[kind], params)


class RecorderGaveUp(Exception):
    """The database stayed away longer than the job's claims last: what was not recorded is left to the sweeper."""


class Recorder:
    """Writes outcomes as they arrive: while one write is running, the next outcomes gather for the following one.

    So each provider id is stored a few milliseconds after the provider gave it, without a transaction per message.
    While the database does not answer, the outcomes are kept and written again, and ``ready()`` holds back new
    provider requests (a message sent now could not be recorded); after ``patience`` seconds (the claim lease: then
    the sweeper may hand the deliveries on) the recorder gives up and the job ends.
    """

    def __init__(self, executor: ThreadPoolExecutor, *, patience: float) -> None:
        self._executor = executor
        self._patience = patience
        self._pending: list[Outcome] = []
        self._wakeup = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._gave_up = False
        self._closing = False
        self._task = asyncio.create_task(self._run())

    def add(self, outcome: Outcome) -> None:
        self._pending.append(outcome)
        self._wakeup.set()

    async def ready(self) -> None:
        """Return when outcomes can be recorded; raises ``RecorderGaveUp`` once the recorder has given up."""
        await self._writable.wait()
        if self._gave_up:
            raise RecorderGaveUp

    async def _write(self, batch: list[Outcome]) -> None:
        pause, failing_since = 0.2, None
        while True:
            try:
                await asyncio.get_running_loop().run_in_executor(self._executor, write_outcomes, batch)
                self._writable.set()
                return
            except SQLAlchemyError as exc:
                failing_since = failing_since or time.monotonic()
                if time.monotonic() - failing_since > self._patience:
                    self._gave_up = True
                    self._writable.set()  # wake the waiting senders: they stop
                    raise RecorderGaveUp(describe(exc)) from exc
                self._writable.clear()
                log.warning("outcomes not recorded yet; sending paused", extra={"error": type(exc).__name__})
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch, self._pending = self._pending, []
                await self._write(batch)
            if self._closing:
                return

    async def close(self) -> None:
        """Wait until everything added has been written (raises if the recorder gave up)."""
        self._closing = True
        self._wakeup.set()
        await self._task
