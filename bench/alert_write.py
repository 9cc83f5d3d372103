"""What the alert's one transaction costs (issue 3): the part of "first SMS within 0.2 s" that happens before any
job can start.

docs/architecture.md §4: creating an alert writes the alert, its recipients and one delivery per (recipient, channel)
in one transaction, and only then enqueues work. This program times that transaction for N recipients (SMS only) on its
own PostgreSQL database, with no queue, HTTP or worker around it, and prints:

- ``create_alert`` as the API runs it (resolve the targets, write everything, audit, commit), median of the runs;
- a naive baseline in the same run: the people read into Python and written back as ORM objects
  (``session.add_all`` and flush), as a first version would;
- what the writes are made of: the recipient and delivery statements alone, rolled back, once as they are and once
  inside a transaction that first drops the foreign keys of the two tables (rolled back too, so nothing changes).
  The difference is what the per-row foreign-key checks cost, a cost PostgreSQL pays per row whatever the insert
  method.

    python -m bench.alert_write [--recipients 10000] [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from sqlalchemy import Table, select, text, true
from sqlalchemy.orm import Session

from bench.stack import NoQueue, add_people, bench_database

RESULTS_DIR = Path(__file__).parent / "results"


def median_seconds(runs: int, once: Callable[[], float]) -> float:
    once()  # warm: statement caches, buffers
    return statistics.median(once() for _ in range(runs))


def time_create_alert(people: list[int]) -> float:
    from alerting.flows import create_alert
    from alerting.schemas import AlertCreate

    request = AlertCreate(
        title="Bench", message="HARJOITUS", targets={"people": people}, channels=["sms"], exercise=True
    )
    started = time.perf_counter()
    create_alert(request, actor="bench")
    return time.perf_counter() - started


def profile_create_alert(people: list[int], top: int) -> None:
    """One more ``create_alert`` under cProfile: its CPU (the rest of its time is PostgreSQL's) and costliest
    functions by their own time."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    cpu = time.process_time()
    profiler.runcall(time_create_alert, people)
    print(f"\n== create_alert under cProfile: {(time.process_time() - cpu) * 1000:.1f} ms of CPU ==")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def _new_alert(session: Session) -> int:
    from alerting.models import Alert, AlertStatus
    from alueturva.db import utcnow

    now = utcnow()
    alert = Alert(
        title="Bench",
        message="HARJOITUS",
        exercise=True,
        status=AlertStatus.open,
        short_code="1000",
        channels=["sms"],
        targets={},
        response_options=[],
        escalation={},
        created_by="bench",
        created_at=now,
        closes_at=now,
    )
    session.add(alert)
    session.flush()
    return alert.id


def time_naive_orm(people: list[int]) -> float:
    """Read the people, then one ORM object per recipient and per delivery, flushed; committed."""
    from alerting.models import Channel, Delivery, DeliveryKind, DeliveryState, Recipient
    from alueturva.db import get_database, utcnow
    from contacts.models import Person

    started = time.perf_counter()
    with get_database().session() as session:
        alert_id = _new_alert(session)
        now = utcnow()
        persons = session.scalars(select(Person).where(Person.id.in_(people), Person.active.is_(True))).all()
        recipients = [
            Recipient(
                alert_id=alert_id,
                person_id=p.id,
                organisation_id=p.organisation_id,
                language=p.language,
                link_nonce=secrets.token_hex(16),
            )
            for p in persons
        ]
        session.add_all(recipients)
        session.flush()
        session.add_all(
            Delivery(
                alert_id=alert_id,
                recipient_id=recipient.id,
                channel=Channel.sms,
                kind=DeliveryKind.alert,
                round=0,
                address=person.mobile,
                state=DeliveryState.queued,
                attempts=0,
                created_at=now,
                enqueued_at=now,
            )
            for recipient, person in zip(recipients, persons, strict=True)
            if person.mobile
        )
        session.flush()
    return time.perf_counter() - started


def foreign_keys_of_alert_rows() -> list[tuple[str, str]]:
    from alerting.models import Delivery, Recipient

    return [
        (table.name, str(constraint.name))
        for table in (cast(Table, Recipient.__table__), cast(Table, Delivery.__table__))
        for constraint in table.foreign_key_constraints
    ]


def time_writes(people: list[int], *, without_foreign_keys: bool) -> float:
    """The recipient and delivery statements of ``create_alert``, timed, then rolled back."""
    from alerting import service, targets
    from alerting.models import Channel, DeliveryKind
    from alueturva.db import get_database, utcnow

    database = get_database()
    with database.sessionmaker() as session:
        if without_foreign_keys:
            for table, name in foreign_keys_of_alert_rows():
                session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        alert_id = _new_alert(session)
        started = time.perf_counter()
        targets.add_recipients(session, alert_id=alert_id, person_ids=people, now=utcnow())
        service.add_deliveries(
            session,
            alert_id=alert_id,
            recipients=true(),
            channels=[Channel.sms],
            kind=DeliveryKind.alert,
            round_=0,
            now=utcnow(),
        )
        elapsed = time.perf_counter() - started
        session.rollback()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each (the median is printed)")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="print the N costliest functions of one more create_alert"
    )
    args = parser.parse_args()
    os.environ.setdefault("ALUETURVA_SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")

    from alueturva.db import Database, set_database
    from alueturva.queue import set_queue

    print(f"machine: {os.cpu_count()} CPUs, load average before the run {os.getloadavg()[0]:.2f}")
    with bench_database() as url:
        people = add_people(url, args.recipients)
        set_database(Database(url))
        set_queue(NoQueue())  # type: ignore[arg-type]
        try:
            figures = {
                "create_alert": median_seconds(args.runs, lambda: time_create_alert(people)),
                "naive_orm": median_seconds(args.runs, lambda: time_naive_orm(people)),
                "writes": median_seconds(args.runs, lambda: time_writes(people, without_foreign_keys=False)),
                "writes_without_foreign_keys": median_seconds(
                    args.runs, lambda: time_writes(people, without_foreign_keys=True)
                ),
            }
            if args.profile:
                profile_create_alert(people, args.profile)
        finally:
            set_queue(None)
            set_database(None)

    count = args.recipients
    checks = figures["writes"] - figures["writes_without_foreign_keys"]
    print(f"\n== the alert's transaction, {count:,} recipients, SMS only (median of {args.runs}) ==")
    print(f"  create_alert (resolve, write, audit, commit)     {figures['create_alert'] * 1000:8.1f} ms")
    print(f"  naive: people into Python, ORM objects, flush    {figures['naive_orm'] * 1000:8.1f} ms")
    print(f"  create_alert is {figures['naive_orm'] / figures['create_alert']:.1f}x faster than the naive way")
    print(f"  recipient and delivery statements                {figures['writes'] * 1000:8.1f} ms")
    print(f"  the same without foreign keys (rolled back)      {figures['writes_without_foreign_keys'] * 1000:8.1f} ms")
    share = checks / figures["writes"] * 100
    print(f"  so the per-row foreign-key checks take           {checks * 1000:8.1f} ms ({share:.0f} % of the writes)")
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"alert-write-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"recipients": count, "runs": args.runs, **figures}, indent=2))
    print(f"\nfigures saved to {out}")


if __name__ == "__main__":
    main()
