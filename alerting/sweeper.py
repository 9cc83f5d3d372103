"""The sweeper, a periodic task: it loses nothing. A large alert whose remaining recipients stopped being added is
finished, deliveries a lost job or a dead worker left behind are enqueued again, the escalation steps whose time has
come are run, and calls still ringing for someone who has acknowledged (or for an alert that ended) are stopped."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from alerting.audience import resume_stalled
from alerting.calls import calls_to_stop, stop_calls
from alerting.dispatch import batches_of, enqueue_deliveries
from alerting.escalation import run_due_timers
from alerting.models import Delivery, DeliveryState
from alueturva.db import get_database, utcnow
from alueturva.queue import get_queue
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


def stop_unneeded_calls(*, now: datetime | None = None) -> int:
    """Queue a job that stops the calls nobody needs any more; a job lost with Redis is queued again next time."""
    with get_database().session() as session:
        ids = calls_to_stop(session, now=now or utcnow())
    if ids:
        try:
            get_queue().enqueue(stop_calls, ids)
        except Exception as exc:
            log.warning("queue unavailable; calls are stopped at the next sweep", extra={"error": type(exc).__name__})
    return len(ids)


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic task: finish large alerts whose recipients stopped being added, re-enqueue stranded
    deliveries, run the escalation steps that are due, stop calls that are no longer needed."""
    resumed = resume_stalled(now=now)
    requeued = requeue_stranded(now=now)
    steps = run_due_timers(now=now)
    stopping = stop_unneeded_calls(now=now)
    return {"audiences_resumed": resumed, "requeued": requeued, "escalation_steps": steps, "calls_stopping": stopping}
