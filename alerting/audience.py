"""A large alert's people made recipients a chunk at a time, after its first batch has gone out.

The alert's own transaction (``flows.create_alert``) writes the alert, the ids of every person its targets name
(``Alert.audience``, beyond the first batch), and the first batch's recipients and deliveries; their send job is
queued at once, so the first message does not wait for thousands of rows. The rest are made recipients here, a chunk
per transaction: the chunk's recipients, their deliveries, and the cursor ``audience_done`` are committed together
under the alert's row lock, so a chunk is written exactly once however many runs race or die. A run that dies
leaves the cursor where its last commit put it; the sweeper (``resume_stalled``) finishes any alert whose progress
has stopped (docs/architecture.md §4).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting import service
from alerting.dispatch import enqueue_deliveries
from alerting.models import Alert, AlertStatus, Channel, Delivery, DeliveryKind, Recipient
from alerting.targets import add_recipients
from alueturva.db import get_database, id_in, refresh_statistics, utcnow
from alueturva.queue import get_queue
from alueturva.settings import get_settings

log = logging.getLogger(__name__)


def _write_chunk(session: Session, alert: Alert, now: datetime) -> list[int]:
    """Make the next chunk of the audience recipients and queue their first-round deliveries (only while the alert
    is open: a cancelled alert's remaining people are recorded as targeted, and sent nothing); advance the cursor."""
    assert alert.audience is not None
    start = alert.audience_done
    chunk = alert.audience[start : start + get_settings().alert_chunk_size]
    added = add_recipients(session, alert_id=alert.id, person_ids=chunk, now=now)
    delivery_ids: list[int] = []
    if alert.status is AlertStatus.open and added:
        delivery_ids = service.add_deliveries(
            session,
            alert_id=alert.id,
            recipients=id_in(session, Recipient.id, added),
            channels=[Channel(name) for name in alert.channels],
            kind=DeliveryKind.alert,
            round_=0,
            now=now,
        )
    alert.audience_done = start + len(chunk)
    if alert.audience_done >= len(alert.audience):
        alert.audience, alert.audience_progress_at = None, None
    else:
        alert.audience_progress_at = now
    return delivery_ids


def add_next_chunk(*, alert_id: int, now: datetime | None = None) -> tuple[list[int], bool]:
    """Write one chunk in its own transaction; its new delivery ids, and whether people remain after it."""
    with get_database().session() as session:
        alert = service.get_alert(session, alert_id=alert_id, for_update=True)
        if alert.audience is None:
            return [], False
        delivery_ids = _write_chunk(session, alert, now or utcnow())
        remaining = alert.audience is not None
    return delivery_ids, remaining


def add_audience(alert_id: int) -> int:
    """The queue job: make the rest of the alert's audience recipients, a chunk at a time, queueing each chunk's
    send jobs as soon as it is committed. Returns the deliveries queued. Running it twice, or after a run that died,
    adds nobody twice.

    After the first chunk the recipients' and deliveries' statistics are taken afresh: the send jobs' claims are
    planned from them (``db.refresh_statistics``)."""
    queued, remaining, first = 0, True, True
    while remaining:
        delivery_ids, remaining = add_next_chunk(alert_id=alert_id)
        enqueue_deliveries(delivery_ids, first_batch=False)
        queued += len(delivery_ids)
        if first and remaining:
            refresh_statistics(get_database().engine, [Recipient.__tablename__, Delivery.__tablename__])
        first = False
    return queued


def queue_audience(alert_id: int) -> None:
    """Queue ``add_audience`` for the alert; a queue that cannot be reached loses nothing (the sweeper resumes)."""
    try:
        get_queue().enqueue(add_audience, alert_id)
    except Exception as exc:
        log.warning(
            "queue unavailable; the sweeper will add the alert's remaining recipients",
            extra={"alert_id": alert_id, "error": type(exc).__name__},
        )


def resume_stalled(*, now: datetime | None = None) -> int:
    """Finish, here and now, every alert whose audience has made no progress for
    ``DELIVERY_REQUEUE_AFTER_SECONDS`` (its job was lost with Redis, or its worker died between chunks). Returns
    the alerts resumed."""
    now = now or utcnow()
    stale_before = now - timedelta(seconds=get_settings().delivery_requeue_after_seconds)
    with get_database().session() as session:
        stalled = list(
            session.scalars(select(Alert.id).where(Alert.audience_progress_at <= stale_before).order_by(Alert.id))
        )
    for alert_id in stalled:
        log.info("resuming an alert's recipients", extra={"alert_id": alert_id})
        add_audience(alert_id)
    return len(stalled)
