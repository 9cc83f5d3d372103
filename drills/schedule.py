"""Drills on time: schedules in Finnish time, and the periodic task that starts, records missed and ends drills.

The database decides who starts a drill: a once-scheduled drill moves planned → running in one conditional UPDATE;
each occurrence of a recurring drill is a drill row with a unique (series, occurrence) pair. So two schedulers by
mistake, a restart or a retry start it once. A start that came while no scheduler ran is made when one comes back,
within ``DRILL_START_GRACE_SECONDS``; later than that it is recorded as missed, never silently lost.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from alueturva.db import get_database, utcnow
from alueturva.settings import get_settings
from drills import feedback, flows, outbox, service
from drills.cron import occurrences_between

log = logging.getLogger(__name__)

SCHEDULER = "scheduler"


def tick(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic task: start what is due, record what was missed, send the drills' pending alerts, end drills
    whose time is over, send the participants' feedback requests that are due."""
    now = now or utcnow()
    counts = {"started": 0, "missed": 0, "alerts": 0, "ended": 0}
    database = get_database()
    with database.session() as session:
        once = service.planned_once_due(session, now=now)
        plans = service.recurring_plans(session)
        ending = service.running_due_to_end(session, now=now)
    for drill_id in once:
        if (outcome := _start_once(drill_id, now)) is not None:
            counts[outcome] += 1
    for series_id in plans:
        for outcome in _start_occurrences(series_id, now):
            counts[outcome] += 1
    counts["alerts"] = outbox.send_pending_alerts()
    for drill_id in ending:
        with database.session() as session:
            drill = service.get_drill(session, drill_id=drill_id)
            counts["ended"] += flows.end(session, drill=drill, actor=SCHEDULER, now=now)
    if sent := feedback.send_pending(now=now):  # those just ended, and any whose sending was cut short
        log.info("drill feedback requests sent", extra={"sent": sent})
    if any(counts.values()):
        log.info("drills tick", extra=counts)
    return counts


def _grace() -> timedelta:
    return timedelta(seconds=get_settings().drill_start_grace_seconds)


def _start_once(drill_id: int, now: datetime) -> str | None:
    """Start the drill or record it missed; None when another scheduler got there first."""
    with get_database().session() as session:
        drill = service.get_drill(session, drill_id=drill_id)
        assert drill.start_at is not None
        if now - drill.start_at > _grace():
            return "missed" if flows.record_missed(session, drill=drill, now=now) else None
        started = flows.start_if_planned(session, drill=drill, actor=SCHEDULER, now=now)
    return "started" if started is not None else None


def _start_occurrences(series_id: int, now: datetime) -> list[str]:
    with get_database().session() as session:
        plan = service.get_drill(session, drill_id=series_id)
        assert plan.cron is not None
        since = service.latest_occurrence(session, series_id=series_id) or plan.created_at
        due = occurrences_between(plan.cron, since, now)
    outcomes = []
    for occurrence in due:
        with get_database().session() as session:
            plan = service.get_drill(session, drill_id=series_id)
            missed = now - occurrence > _grace()
            if flows.start_occurrence(session, plan=plan, occurrence=occurrence, now=now, missed=missed):
                outcomes.append("missed" if missed else "started")
    return outcomes
