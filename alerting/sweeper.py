"""The sweeper, a periodic task: it loses nothing. Deliveries a lost job or a dead worker left behind are enqueued
again, and the escalation steps whose time has come are run."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from alerting.dispatch import batches_of, enqueue_deliveries
from alerting.escalation import run_due_timers
from alerting.models import Delivery, DeliveryState
from alueturva.db import get_database, utcnow
from alueturva.settings import get_settings

log = logging.getLogger(__name__)

SWEEP_LIMIT = 20_000
REQUEUE_CHUNK = 1000


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
        for chunk in batches_of(ids, REQUEUE_CHUNK):
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
    requeued = requeue_stranded(now=now)
    steps = run_due_timers(now=now)
    return {"requeued": requeued, "escalation_steps": steps}
