"""Periodic work (sweepers). Exactly one scheduler runs: inside `alueturva up`, or as `alueturva scheduler`.

The tasks themselves are listed by the application (``alueturva.app.wiring``); they keep their state in the database,
so a restarted scheduler simply picks up where the rows say.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    func: Callable[[], object]
    every_seconds: float


def _safely(task: PeriodicTask) -> Callable[[], None]:
    def run() -> None:
        try:
            task.func()
        except Exception:
            log.exception("periodic task failed", extra={"task": task.name})

    return run


def build_scheduler(tasks: list[PeriodicTask], *, blocking: bool) -> BaseScheduler:
    scheduler: BaseScheduler = BlockingScheduler(timezone="UTC") if blocking else BackgroundScheduler(timezone="UTC")
    for task in tasks:
        scheduler.add_job(
            _safely(task),
            "interval",
            seconds=task.every_seconds,
            id=task.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
    return scheduler
