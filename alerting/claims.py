"""Claims: a worker owns a delivery while it sends it. Taken atomically, renewed while the job waits for its turn,
run out when the worker dies (the sweeper then hands the delivery on)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from sqlalchemy import ColumnElement, String, Table, and_, or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from alerting.models import Delivery, DeliveryState
from alueturva.db import get_database, id_in, utcnow
from alueturva.settings import get_settings

log = logging.getLogger(__name__)
_table = cast(Table, Delivery.__table__)


def _state_is(state: DeliveryState) -> ColumnElement[bool]:
    """``state = :state``, written (``state || ''``) so that no index on the state can serve it: a claim finds its
    rows by their ids. PostgreSQL's statistics, older than a large fan-out's fresh rows, count a handful of queued
    deliveries; trusting them, it read every queued row through the (state, enqueued_at) index and compared each
    with the batch's ids, about 100 ms a claim during a 10,000-person alert (auto_explain, ``bench.fanout``)."""
    return Delivery.state.cast(String).concat("") == state.name


def claim(session: Session, *, delivery_ids: Sequence[int], now: datetime) -> list[Any]:
    """Atomically take the deliveries that are due (queued, or claimed by a worker whose lease ran out)."""
    settings = get_settings()
    due = or_(
        and_(
            _state_is(DeliveryState.queued),
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        ),
        and_(_state_is(DeliveryState.sending), Delivery.claimed_until < now),
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


def renew_claims(delivery_ids: Sequence[int], *, lease_seconds: float) -> None:
    """Extend this job's claims that have not run out (one that ran out may already be another worker's)."""
    now = utcnow()
    with get_database().engine.begin() as connection:
        connection.execute(
            update(_table)
            .where(
                _table.c.id.in_(list(delivery_ids)),
                _state_is(DeliveryState.sending),
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
                try:
                    await asyncio.get_running_loop().run_in_executor(self._executor, renew)
                except SQLAlchemyError as exc:  # the database is away: try again at the next turn
                    log.warning("claims not renewed", extra={"error": type(exc).__name__})

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
