"""How fast a drill's after-action report is made (issue 11): a drill of 10,000 recipients on PostgreSQL.

The drill is made the way the service makes one (planned, started, its alert created through the alerting domain,
nothing sent), and then given what happens in a real test, in bulk: SMS and email delivered over the first minute at
the provider's pace, a few numbers refused and addresses bounced, reminders to the silent after ten minutes, and
acknowledgements whose times follow a log-normal curve (median about five minutes, a long tail, one in ten never).

It times, median of ``--runs``:

- the JSON report as the API answers it (``build_report``, then encoded as the response body);
- the HTML report (``build_report`` and the template, charts included);
- the PDF once (WeasyPrint on that HTML; it is allowed more time);
- the report's figures alone, added up in the database (a part of both the above);
- a naive baseline in the same run: every recipient and delivery loaded as ORM objects and the headline figures
  (counts, median and 90th percentile of the acknowledgement times) computed in Python, as a first version would.
  Its figures are compared with the report's, so that both are known to say the same.

    python -m bench.report [--recipients 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, update

from bench.stack import SECRET_KEY, bench_database

RESULTS_DIR = Path(__file__).parent / "results"
JSON_TARGET_SECONDS = 0.4  # issue 24
HTML_TARGET_SECONDS = 1.0  # issue 11
PDF_TARGET_SECONDS = {2_000: 8.0, 10_000: 25.0}  # issue 24
SEED = 2025
SEND_RATE = 200  # messages a second at the provider
REMIND_AFTER = timedelta(minutes=10)
DURATION_MINUTES = 45


def add_region(url: str, count: int) -> None:
    """``count`` people spread over every organisation (the city and the county biggest), some Swedish- and
    English-speaking, a few without a mobile number, most with an email address."""
    from contacts.models import Organisation, Person

    chance = random.Random(SEED)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            organisations = list(conn.execute(select(Organisation.id, Organisation.key)).all())
            weights = [6 if key in ("kokkola", "soite") else 1 for _, key in organisations]
            rows = []
            for n in range(count):
                (organisation_id, key) = chance.choices(organisations, weights)[0]
                swedish = key in ("kokkola", "soite") and chance.random() < 0.12
                rows.append(
                    {
                        "name": f"Bench Person {n}",
                        "organisation_id": organisation_id,
                        "mobile": None if chance.random() < 0.02 else f"+35850{n:07d}",
                        "email": f"bench{n}@example.fi" if chance.random() < 0.7 else None,
                        "language": "sv" if swedish else "en" if chance.random() < 0.01 else "fi",
                        "active": True,
                    }
                )
            conn.execute(insert(Person), rows)
    finally:
        engine.dispose()


def start_drill(started: datetime) -> int:
    """Plan and start a management-group test of everyone; its alert is created, not sent."""
    from alueturva.db import get_database
    from contacts.models import Organisation
    from drills import flows, plans
    from drills.schemas import DrillCreate

    with get_database().session() as session:
        request = DrillCreate.model_validate(
            {
                "name": "Bench: the whole region",
                "kind": "management_group_test",
                "targets": {"organisations": list(session.scalars(select(Organisation.id)))},
                "channels": ["sms", "email"],
                "title": {"fi": "Hälytyskoe", "sv": "Larmtest"},
                "message": {"fi": "Kuittaa, kiitos.", "sv": "Kvittera, tack."},
                "objectives": [
                    {"kind": "ack_share_within", "percent": 80, "minutes": 15},
                    {"kind": "every_organisation_within", "minutes": 30},
                    {"kind": "every_area_within", "minutes": 30},
                    {"kind": "max_unreachable", "count": 0},
                ],
            }
        )
    drill_id = plans.plan(request=request, actor="bench", now=started - timedelta(days=1)).id
    flows.start(drill_id=drill_id, actor="bench", now=started, dispatch=False)  # its alert made, nothing sent
    return drill_id


def settle(drill_id: int, started: datetime) -> None:
    """What happened, written in bulk: deliveries, failures, reminders, acknowledgements and poll answers."""
    from alerting.models import AckMethod, Channel, Delivery, DeliveryKind, DeliveryState, Recipient
    from alueturva.db import get_database
    from drills import flows, service

    chance = random.Random(SEED)
    with get_database().session() as session:
        alert_ids = service.measured_alert_ids(session, drill_id=drill_id)
        deliveries = session.execute(
            select(Delivery.id, Delivery.recipient_id, Delivery.channel)
            .where(Delivery.alert_id.in_(alert_ids))
            .order_by(Delivery.id)
        ).all()
        changes, failed = [], set()
        for n, (delivery_id, recipient_id, channel) in enumerate(deliveries):
            sent = started + timedelta(seconds=n / SEND_RATE + chance.uniform(0.2, 1.5))
            change: dict[str, Any] = {"id": delivery_id, "sent_at": sent, "attempts": 1, "provider_id": f"b{n}"}
            if chance.random() < (0.015 if channel is Channel.sms else 0.01):
                failed.add(recipient_id)
                code = chance.choice(["30003", "30005", "21211"]) if channel is Channel.sms else "550"
                change |= {"state": DeliveryState.undelivered, "failed_at": sent + timedelta(seconds=20)}
                change |= {"error_code": code, "error_message": "the provider reported it undelivered"}
            else:
                delay = timedelta(seconds=chance.uniform(2, 30))
                change |= {"state": DeliveryState.delivered, "delivered_at": sent + delay}
            changes.append(change)
        session.execute(update(Delivery), changes)

        recipients = session.execute(
            select(Recipient.id, Recipient.alert_id).where(Recipient.alert_id.in_(alert_ids)).order_by(Recipient.id)
        ).all()
        acknowledgements, reminders = [], []
        for recipient_id, alert_id in recipients:
            never = chance.random() < 0.10
            minutes = chance.lognormvariate(1.6, 0.8)
            if never or minutes > REMIND_AFTER.total_seconds() / 60:
                at = started + REMIND_AFTER + timedelta(seconds=chance.uniform(0, 30))
                reminders.append(
                    {
                        "alert_id": alert_id,
                        "recipient_id": recipient_id,
                        "channel": Channel.sms,
                        "kind": DeliveryKind.reminder,
                        "round": 1,
                        "address": "+358500000000",
                        "state": DeliveryState.delivered,
                        "attempts": 1,
                        "created_at": at,
                        "enqueued_at": at,
                        "sent_at": at,
                        "delivered_at": at + timedelta(seconds=5),
                    }
                )
            if never:
                continue
            acknowledgements.append(
                {
                    "id": recipient_id,
                    "acknowledged_at": started + timedelta(minutes=minutes),
                    "ack_method": AckMethod.sms if chance.random() < 0.8 else AckMethod.link,
                    "ack_by": "bench",
                    "ack_late": minutes > DURATION_MINUTES,
                    "response": 1 if chance.random() < 0.85 else 2,
                }
            )
        session.execute(insert(Delivery), reminders)
        session.execute(update(Recipient), acknowledgements)
    flows.end_by_hand(drill_id=drill_id, actor="bench", now=started + timedelta(minutes=DURATION_MINUTES))


def json_report(drill_id: int) -> None:
    from alueturva.db import get_database
    from drills.report import render
    from drills.report.assemble import build_report

    with get_database().session() as session:
        report = build_report(session, drill_id=drill_id)
    render.export(report, "json")  # the body the API sends


def report_figures_only(drill_id: int) -> None:
    """The report's figures alone (counts, times, per organisation and area, channels, poll, curve), in the
    database: what the naive way computes in Python."""
    from alueturva.db import get_database
    from drills import service
    from drills.measures import measures
    from drills.report import assemble, figures

    with get_database().session() as session:
        measured = measures(session, service.get_drill(session, drill_id=drill_id))
        with figures.recipients_table(session, measured) as recipients:
            assemble.report_figures(session, recipients, measured, language="fi")


def html_report(drill_id: int) -> None:
    from alueturva.db import get_database
    from drills.report import render
    from drills.report.assemble import build_report

    with get_database().session() as session:
        report = build_report(session, drill_id=drill_id)
    render.export(report, "html")


def pdf_report(drill_id: int, *, everyone: bool = False) -> int:
    """The PDF as exported (the people who did not acknowledge), or with ``everyone``'s row as it was before
    issue 24 (the baseline); its size in bytes."""
    from alueturva.db import get_database
    from drills.report import render
    from drills.report.assemble import build_report

    with get_database().session() as session:
        report = build_report(session, drill_id=drill_id)
    document = render.pdf(render.report_html(report)) if everyone else render.export(report, "pdf").body
    return len(document)


def _nearest_rank(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (the report's definition)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, -(-int(share * 100) * len(ordered) // 100) - 1)]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def naive_figures(drill_id: int) -> dict[str, Any]:
    """The report's headline figures the naive way: every row into Python as an ORM object, computed there."""
    from alerting.models import Alert, Delivery, DeliveryState, Recipient
    from alueturva.db import get_database
    from contacts.models import Organisation
    from drills import service

    with get_database().session() as session:
        alert_ids = service.measured_alert_ids(session, drill_id=drill_id)
        alerts = {alert.id: alert for alert in session.scalars(select(Alert).where(Alert.id.in_(alert_ids)))}
        names = {o.id: o.short_name for o in session.scalars(select(Organisation))}
        recipients = [
            r
            for r in session.scalars(select(Recipient).where(Recipient.alert_id.in_(alert_ids)))
            if r.deputy_for_id is None  # deputies are counted apart
        ]
        by_recipient: dict[int, list[Delivery]] = defaultdict(list)
        for delivery in session.scalars(select(Delivery).where(Delivery.alert_id.in_(alert_ids))):
            by_recipient[delivery.recipient_id].append(delivery)
        ack_seconds, per_organisation = [], Counter[str]()
        timelines: dict[int, list[tuple[datetime, str]]] = {}
        for recipient in recipients:
            alert = alerts[recipient.alert_id]
            per_organisation[names[recipient.organisation_id]] += 1
            events = [(d.sent_at, "sent") for d in by_recipient[recipient.id] if d.sent_at]
            events += [(d.delivered_at, "delivered") for d in by_recipient[recipient.id] if d.delivered_at]
            if recipient.acknowledged_at is not None:
                ack_seconds.append((recipient.acknowledged_at - alert.created_at).total_seconds())
                events.append((recipient.acknowledged_at, "acknowledged"))
            timelines[recipient.id] = sorted(events)
        delivered = sum(any(d.state is DeliveryState.delivered for d in by_recipient[r.id]) for r in recipients)
    return {
        "targeted": len(recipients),
        "delivered": delivered,
        "acknowledged": len(ack_seconds),
        "ack_median": _rounded(_nearest_rank(ack_seconds, 0.5)),
        "ack_p90": _rounded(_nearest_rank(ack_seconds, 0.9)),
        "organisations": len(per_organisation),
    }


def report_figures(drill_id: int) -> dict[str, Any]:
    """The same headline figures, from the report's JSON."""
    from alueturva.db import get_database
    from drills.report.assemble import build_report

    with get_database().session() as session:
        report = build_report(session, drill_id=drill_id)
    counts, ack = report.counts, report.ack_seconds
    return {
        "targeted": counts.targeted,
        "delivered": counts.delivered,
        "acknowledged": counts.acknowledged,
        "ack_median": ack.median,
        "ack_p90": ack.p90,
        "organisations": len(report.by_organisation),
    }


@dataclass(frozen=True)
class Timing:
    """Wall time, and this process's CPU time (what the report costs the API process whatever the load)."""

    wall: float
    cpu: float


def timed(once: Callable[[], object]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    once()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu)


def median_timing(runs: int, once: Callable[[], object]) -> Timing:
    once()  # warm: statement caches, templates, fonts
    timings = [timed(once) for _ in range(runs)]
    return Timing(statistics.median(t.wall for t in timings), statistics.median(t.cpu for t in timings))


def count_statements(once: Callable[[], object]) -> int:
    """The SQL statements one run sends to the database."""
    from sqlalchemy import event

    from alueturva.db import get_database

    engine, sent = get_database().engine, [0]

    def count(*_: object) -> None:
        sent[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        once()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return sent[0]


def print_profile(once: Callable[[], object], top: int) -> None:
    """One more run under cProfile: its ``top`` functions by their own time, and by time including callees."""
    import cProfile
    import pstats

    print(f"\n-- one JSON report sends {count_statements(once)} SQL statements --", flush=True)
    profiler = cProfile.Profile()
    profiler.runcall(once)
    for order in ("tottime", "cumulative"):
        print(f"\n-- profile of one JSON report, by {order} --", flush=True)
        pstats.Stats(profiler).strip_dirs().sort_stats(order).print_stats(top)


def verdict(seconds: float, target: float) -> str:
    return f"target < {target:g} s: {'ok' if seconds < target else 'MISSED'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (the median is printed)")
    parser.add_argument("--no-pdf", dest="pdf", action="store_false", help="skip the PDF")
    parser.add_argument(
        "--no-pdf-baseline", dest="pdf_baseline", action="store_false", help="skip the PDF with everyone's row"
    )
    parser.add_argument("--no-html", dest="html", action="store_false", help="skip the HTML")
    parser.add_argument("--profile", type=int, default=0, help="also print the JSON report's N costliest functions")
    args = parser.parse_args()
    os.environ.setdefault("ALUETURVA_SECRET_KEY", SECRET_KEY)

    from alueturva.db import Database, set_database, utcnow
    from drills.report import assemble, render  # noqa: F401 - loaded before the freeze, as the server loads them

    # As the API process does at start-up (alueturva.app.http._lifespan): what is loaded is set aside from the
    # garbage collector, so that full collections walk only what the requests themselves made.
    gc.collect()
    gc.freeze()
    print(f"machine: {os.cpu_count()} CPUs, load average before the run {os.getloadavg()[0]:.2f}", flush=True)
    figures: dict[str, float] = {}

    def show(key: str, label: str, timing: Timing, note: str) -> None:
        figures[key], figures[f"{key}_cpu"] = timing.wall, timing.cpu
        wall, cpu = timing.wall * 1000, timing.cpu * 1000
        print(f"  {label:<34}{wall:8.0f} ms  (CPU {cpu:6.0f} ms)   {note}", flush=True)

    with bench_database() as url:
        add_region(url, args.recipients)
        set_database(Database(url))
        try:
            # Held eight days ago: its feedback week is over, so ending it asks no one for feedback. Ended a day ago,
            # the in-process queue would send 9,000 feedback requests from a thread of this process while it measures.
            started = utcnow() - timedelta(days=8)
            setup = time.perf_counter()
            drill_id = start_drill(started)
            settle(drill_id, started)
            print(f"a drill of {args.recipients:,} recipients made in {time.perf_counter() - setup:.1f} s", flush=True)
            print(f"\n== its after-action report (median of {args.runs}; CPU: this process's) ==", flush=True)
            as_json = median_timing(args.runs, lambda: json_report(drill_id))
            show("json", "JSON (as the API answers)", as_json, verdict(as_json.wall, JSON_TARGET_SECONDS))
            if args.html:
                as_html = median_timing(args.runs, lambda: html_report(drill_id))
                show("html", "HTML (charts included)", as_html, verdict(as_html.wall, HTML_TARGET_SECONDS))
            if args.profile:
                print_profile(lambda: json_report(drill_id), args.profile)
            in_database = median_timing(args.runs, lambda: report_figures_only(drill_id))
            show("figures", "its figures, in the database", in_database, "part of both")
            naive = median_timing(args.runs, lambda: naive_figures(drill_id))
            show("naive", "naive: rows into Python objects", naive, "fewer figures, computed in Python")
            print(f"  the figures in the database are {naive.wall / in_database.wall:.1f}x faster than the naive way")
            ours, theirs = report_figures(drill_id), naive_figures(drill_id)
            same = "the same" if ours == theirs else f"DIFFERENT: report {ours}, naive {theirs}"
            print(f"  headline figures of the report and of the naive way: {same}", flush=True)
            if args.pdf:
                target = PDF_TARGET_SECONDS.get(args.recipients)
                size: list[int] = []
                as_pdf = timed(lambda: size.append(pdf_report(drill_id)))
                note = "those who did not acknowledge" + (f"; {verdict(as_pdf.wall, target)}" if target else "")
                show("pdf", f"PDF (once, {size[0] / 1024:,.0f} KiB)", as_pdf, note)
            if args.pdf and args.pdf_baseline:
                everyone = timed(lambda: size.append(pdf_report(drill_id, everyone=True)))
                show("pdf_everyone", f"PDF, everyone ({size[1] / 1024:,.0f} KiB)", everyone, "before")
                print(f"  the PDF is {everyone.wall / as_pdf.wall:.1f}x faster than with everyone's row")
            print(f"load average at the end {os.getloadavg()[0]:.2f}", flush=True)
        finally:
            set_database(None)

    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"report-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"recipients": args.recipients, "runs": args.runs, **figures}, indent=2))
    print(f"\nfigures saved to {out}")


if __name__ == "__main__":
    main()
