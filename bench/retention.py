"""Retention benchmark (issue 23): pseudonymising 5,000 recipients' deliveries past retention while a writer keeps
writing, in small batches (``alueturva.personal.retention``) against the naive way, one transaction for everything.

The writer stands for the service at work: every few milliseconds it records a status report on one of the old
deliveries (an ``UPDATE`` and a commit), as a late provider callback would, and its latency is measured. A big
transaction holds its row locks (PostgreSQL) or the whole database (SQLite, the embedded default) until it commits;
small batches let the writer in between them.

    python -m bench.retention [--recipients 5000] [--database sqlite|postgresql]

Target: the writer's p99 under 150 ms while retention runs in batches.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, insert, select, update

from bench.stack import add_people, bench_database, percentile

if TYPE_CHECKING:
    from alueturva.personal.holders import Retention

RESULTS_DIR = Path(__file__).parent / "results"
OLD = timedelta(days=3 * 365)


@contextlib.contextmanager
def _database(kind: str) -> Iterator[str]:
    if kind == "postgresql":
        with bench_database() as url:
            yield url
        return
    from alueturva.app.wiring import prepare_database

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        prepare_database(url)
        yield url


def _old_alert(url: str, people: list[int]) -> list[int]:
    """One alert three years old to ``people``, a delivered SMS each; the deliveries' ids."""
    from alerting.models import Alert, Delivery, Recipient
    from alueturva.db import utcnow
    from contacts.models import Person

    then = utcnow() - OLD
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            alert_id = conn.scalar(
                insert(Alert).returning(Alert.id),
                {"title": "Vanha", "message": "M", "short_code": "OLD1", "channels": ["sms"], "targets": {},
                 "escalation": {}, "created_by": "bench", "created_at": then, "closes_at": then},
            )  # fmt: skip
            organisation_id = conn.scalar(select(Person.organisation_id).limit(1))
            rows = [
                {"alert_id": alert_id, "person_id": p, "organisation_id": organisation_id, "language": "fi",
                 "link_nonce": "x", "added_at": then}
                for p in people
            ]  # fmt: skip
            recipients = conn.execute(
                insert(Recipient).returning(Recipient.id, Recipient.person_id, sort_by_parameter_order=True), rows
            ).all()
            mobiles = {row.id: row.mobile for row in conn.execute(select(Person.id, Person.mobile))}
            deliveries = [
                {"alert_id": alert_id, "recipient_id": r.id, "channel": "sms", "kind": "alert", "round": 0,
                 "address": mobiles[r.person_id], "state": "delivered", "created_at": then, "enqueued_at": then}
                for r in recipients
            ]  # fmt: skip
            return list(conn.scalars(insert(Delivery).returning(Delivery.id, sort_by_parameter_order=True), deliveries))
    finally:
        engine.dispose()


def _writer(url: str, delivery_ids: list[int], stop: threading.Event, latencies: list[float]) -> None:
    from alerting.models import Delivery

    engine = create_engine(url, connect_args={"timeout": 60} if url.startswith("sqlite") else {})
    chance = random.Random(1)
    try:
        while not stop.is_set():
            started = time.perf_counter()
            with engine.begin() as conn:
                target = chance.choice(delivery_ids)
                conn.execute(update(Delivery).where(Delivery.id == target).values(attempts=Delivery.attempts + 1))
            latencies.append(time.perf_counter() - started)
            time.sleep(0.005)
    finally:
        engine.dispose()


def _measure(url: str, delivery_ids: list[int], work: Callable[[], int]) -> dict[str, float]:
    stop, latencies = threading.Event(), list[float]()
    writer = threading.Thread(target=_writer, args=(url, delivery_ids, stop, latencies))
    writer.start()
    time.sleep(0.3)
    started = time.perf_counter()
    batches = work()
    seconds = time.perf_counter() - started
    time.sleep(0.3)
    stop.set()
    writer.join()
    return {
        "seconds": round(seconds, 2),
        "batches": batches,
        "writes": len(latencies),
        "writer_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "writer_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "writer_max_ms": round(max(latencies) * 1000, 1),
    }


def _pseudonymise(holder: Retention, before: datetime, batch_size: int) -> int:
    """Retention of one holder; the batches it took."""
    from alueturva.personal.retention import run_holder

    return run_holder(holder, before=before, batch_size=batch_size)[1]


def run(recipients: int, kind: str) -> dict[str, dict[str, float]]:
    from alerting.personal_data import HOLDERS
    from alueturva.db import Database, set_database, utcnow
    from alueturva.personal import retention
    from alueturva.personal.holders import register

    register(*HOLDERS)
    deliveries = HOLDERS[0].retention
    assert deliveries is not None
    results = {}
    for way in ("one transaction", "batches"):
        with _database(kind) as url:
            ids = _old_alert(url, add_people(url, recipients))
            database = Database(url)
            set_database(database)
            before = retention.cutoff("deliveries", now=utcnow())
            batch_size = retention.BATCH_SIZE if way == "batches" else len(ids) + 1
            work = functools.partial(_pseudonymise, deliveries, before, batch_size)
            results[way] = _measure(url, ids, work)
            set_database(None)
            database.dispose()
        print(f"{kind} {way}: {results[way]}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    results = run(args.recipients, args.database)
    p99 = results["batches"]["writer_p99_ms"]
    print(f"target: writer p99 under 150 ms in batches: {p99} ms {'met' if p99 < 150 else 'MISSED'}")
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"retention-{args.database}.json"
    out.write_text(json.dumps({"recipients": args.recipients, **results}, indent=2))


if __name__ == "__main__":
    main()
