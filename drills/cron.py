"""Drill schedules: cron expressions in Finnish time (Europe/Helsinki), through APScheduler's cron trigger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from alueturva.i18n import HELSINKI
from drills.models import Drill, DrillState

MAX_OCCURRENCES_PER_TICK = 100  # a scheduler away for long records at most this many missed runs at a time


def cron_trigger(expression: str) -> CronTrigger:
    """The cron expression in Finnish time (a monthly test at 09:00 stays 09:00 across daylight saving)."""
    return CronTrigger.from_crontab(expression, timezone=HELSINKI)


def next_occurrence(expression: str, after: datetime) -> datetime | None:
    """The first fire time at or after ``after`` (UTC); None if the expression never fires."""
    fire = cron_trigger(expression).get_next_fire_time(None, after)
    return None if fire is None else fire.astimezone(UTC)


def occurrences_between(expression: str, start: datetime, end: datetime) -> list[datetime]:
    """Fire times after ``start`` up to and including ``end`` (at most ``MAX_OCCURRENCES_PER_TICK``)."""
    trigger, previous = cron_trigger(expression), start
    found: list[datetime] = []
    while len(found) < MAX_OCCURRENCES_PER_TICK:
        fire = trigger.get_next_fire_time(None, previous + timedelta(seconds=1))
        if fire is None or fire > end:
            break
        found.append(fire.astimezone(UTC))
        previous = fire
    return found


def schedule_view(drill: Drill, *, now: datetime) -> dict[str, object] | None:
    """The schedule as the API shows it, with a recurring drill's next run."""
    if drill.cron is not None:
        upcoming = next_occurrence(drill.cron, now) if drill.state is DrillState.planned else None
        return {"cron": drill.cron, "timezone": "Europe/Helsinki", "next_at": upcoming}
    if drill.start_at is not None:
        return {"at": drill.start_at}
    return None
