"""Retention (docs/personal-data.md §1): past its kind's time, a row's personal fields become a stable pseudonym.

The scheduler runs it daily (``retention_job``), and `alueturva retention run [--dry-run]` by hand. Each holder is
worked through in small batches, each its own short transaction, so a writer (a worker sending an alert) never waits
long for a lock; ``bench/retention.py`` measures that against one big transaction.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from pydantic import Field, model_validator

from alueturva.config import ConfigModel, config_path, load_yaml
from alueturva.db import get_database, utcnow
from alueturva.personal.holders import Retention, registered

log = logging.getLogger(__name__)

BATCH_SIZE = 100
# Between batches: a writer waiting for SQLite's lock polls it (its busy handler sleeps up to 100 ms at a time) and
# would find it taken again at once; a short pause lets it in. A daily task can afford it.
PAUSE_SECONDS = 0.05
KINDS = ("deliveries", "drill_feedback", "audit", "sessions")


class DocText(ConfigModel):
    """A text of the record of processing (docs/personal-data.md is in Finnish and English)."""

    fi: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Keep(ConfigModel):
    days: int = Field(ge=1, le=36500)
    what: DocText
    why: DocText
    who: DocText


class Rosters(ConfigModel):
    what: DocText
    why: DocText
    kept: DocText


class Processor(ConfigModel):
    name: str = Field(min_length=1)
    what: DocText
    region: DocText
    used_when: DocText


class PersonalDataConfig(ConfigModel):
    retention: dict[str, Keep]
    rosters: Rosters
    processors: list[Processor]

    @model_validator(mode="after")
    def _every_kind(self) -> PersonalDataConfig:
        if sorted(self.retention) != sorted(KINDS):
            raise ValueError(f"retention needs exactly the kinds {', '.join(KINDS)}")
        return self


@cache
def load_personal_data_config(path: Path | None = None) -> PersonalDataConfig:
    return load_yaml(path or config_path("personal_data.yaml"), PersonalDataConfig)


def cutoff(kind: str, *, now: datetime) -> datetime:
    """Rows of ``kind`` from before this moment are past retention."""
    return now - timedelta(days=load_personal_data_config().retention[kind].days)


@dataclass(frozen=True)
class HolderRun:
    holder: str
    kind: str
    before: datetime
    rows: int
    batches: int


def _count(holder: Retention, *, before: datetime) -> int:
    with get_database().session() as session:
        total, after_id = 0, 0
        while ids := holder.expired_ids(session, before=before, after_id=after_id, limit=10_000):
            total, after_id = total + len(ids), ids[-1]
        return total


def run_holder(holder: Retention, *, before: datetime, batch_size: int) -> tuple[int, int]:
    rows = batches = 0
    after_id = 0
    while True:
        with get_database().session() as session:
            ids = holder.expired_ids(session, before=before, after_id=after_id, limit=batch_size)
            if not ids:
                return rows, batches
            rows += holder.pseudonymise(session, ids=ids)
            session.commit()
        batches += 1
        after_id = ids[-1]
        time.sleep(PAUSE_SECONDS)


def run(*, now: datetime | None = None, dry_run: bool = False, batch_size: int = BATCH_SIZE) -> list[HolderRun]:
    """Pseudonymise every registered holder's rows past retention (``dry_run``: only count them)."""
    now = now or utcnow()
    runs = []
    for holder in registered():
        if holder.retention is None:
            continue
        before = cutoff(holder.retention.kind, now=now)
        if dry_run:
            rows, batches = _count(holder.retention, before=before), 0
        else:
            rows, batches = run_holder(holder.retention, before=before, batch_size=batch_size)
        runs.append(HolderRun(holder.name, holder.retention.kind, before, rows, batches))
        if rows and not dry_run:
            log.info("retention", extra={"holder": holder.name, "rows": rows, "batches": batches})
    return runs


def retention_job() -> None:
    """The scheduler's daily task."""
    run()
