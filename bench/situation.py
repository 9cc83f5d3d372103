"""Benchmark of the situational picture on PostgreSQL (issue 4: < 200 ms picture; issue 24: < 100 ms for 1 000
observations in one request).

Creates a database of its own, loads a year of hourly observations for 30 indicators in 9 areas (the 8
municipalities and the region: about 2.4 million rows) with one INSERT … SELECT over generate_series, then times:

- the picture (``GET /api/v1/situation``'s computation) against a naive baseline that loads every observation into
  Python and finds the latest and recent values there;
- one request with 1 000 observations (``POST /api/v1/observations``) against a naive baseline of one request per
  observation (50 of them, extrapolated to 1 000).

The database is dropped at the end, also on failure; the whole run is bounded by ``--timeout`` seconds.

    python bench/situation.py [--admin-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--timeout 900]
        [--hours 8760] [--profile 30]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, select, text

# This file is named like the `situation` package; keep its directory off the import path so the package is found.
sys.path[:] = [
    entry for entry in sys.path if os.path.abspath(entry or ".") != os.path.dirname(os.path.abspath(__file__))
]

INDICATORS = 30
HOURS = 8760
AREAS = ["region", "halsua", "kannus", "kaustinen", "kokkola", "lestijarvi", "perho", "toholampi", "veteli"]
RAISED = ("bench_00", "bench_01", "bench_02")  # rising over the last 12 hours in kokkola and perho


class BenchTimeout(Exception):
    pass


def bench_config() -> Any:
    """The shipped rules with 30 municipality indicators (thresholds 80 and 95, fresh for two hours)."""
    from situation.config import IndicatorSpec, load_readiness_config

    shipped = load_readiness_config()
    indicators = [
        IndicatorSpec(
            key=f"bench_{i:02d}",
            names={"fi": f"Mittari {i}", "sv": f"Indikator {i}", "en": f"Indicator {i}"},
            domain="other",
            unit="%",
            direction="higher_is_worse",
            thresholds={"tehostettu_valmius": 80, "taysvalmius": 95},
            scope="municipality",
            freshness_minutes=120,
        )
        for i in range(INDICATORS)
    ]
    return shipped.model_copy(update={"indicators": indicators, "reactions": [], "cap": None})


@contextmanager
def bench_database(admin_url: str) -> Iterator[str]:
    name = f"alueturva_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from alueturva.db import set_database

        set_database(None)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


LOAD_SQL = """
INSERT INTO observations (indicator_key, area_key, value, observed_at, source, source_id, received_at, reported_by)
SELECT 'bench_' || lpad(i::text, 2, '0'),
       a,
       CASE WHEN i < 3 AND a IN ('kokkola', 'perho')
            THEN 60 + 30 * greatest(0, 1 - extract(epoch FROM (:now - ts)) / 43200)
            ELSE 40 + 15 * sin(extract(epoch FROM ts) / 86400 * 2 * pi() + i) + random() * 10
       END,
       ts, 'bench', NULL, ts, 'bench'
FROM generate_series(0, :indicators - 1) AS i,
     unnest(CAST(:areas AS text[])) AS a,
     generate_series(:now - (:hours - 1) * interval '1 hour', :now, interval '1 hour') AS ts
"""

LATEST_SQL = """
INSERT INTO latest_observations (indicator_key, area_key, value, observed_at, source)
SELECT DISTINCT ON (indicator_key, area_key) indicator_key, area_key, value, observed_at, source
FROM observations ORDER BY indicator_key, area_key, observed_at DESC
"""


def load(url: str, now: datetime, hours: int) -> tuple[int, float]:
    """Load the year of observations; the indexes are built after the rows, as a bulk load should."""
    engine = create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_observations_series"))
        conn.execute(text("DROP INDEX ix_observations_observed_at"))
        conn.execute(text(LOAD_SQL), {"now": now, "indicators": INDICATORS, "areas": AREAS, "hours": hours})
        conn.execute(text("CREATE INDEX ix_observations_series ON observations (indicator_key, area_key, observed_at)"))
        conn.execute(text("CREATE INDEX ix_observations_observed_at ON observations (observed_at)"))
        conn.execute(text(LATEST_SQL))
        rows: int = conn.execute(text("SELECT count(*) FROM observations")).scalar_one()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE observations"))
        conn.execute(text("ANALYZE latest_observations"))
    engine.dispose()
    return rows, time.perf_counter() - started


class Timings:
    """Wall and CPU milliseconds of each run. The CPU time is this process's (the in-process client and the
    application it runs, also in another thread): unlike the wall time, it does not grow with other work's load."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []


def timed(func: Callable[[], Any], repeat: int) -> Timings:
    timings = Timings()
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        func()
        timings.wall.append((time.perf_counter() - started) * 1000)
        timings.cpu.append((time.process_time() - cpu_started) * 1000)
    return timings


def naive_picture(now: datetime) -> dict[str, Any]:
    """Baseline: every observation into Python, latest and recent values found there."""
    from alueturva.db import get_database
    from situation.areas import load_area_tree
    from situation.config import readiness_config
    from situation.engine import compute_picture
    from situation.models import Observation

    config = readiness_config()
    since = now - timedelta(minutes=config.anticipation.trend_window_minutes + 2 * config.hysteresis.hold_minutes)
    with get_database().session() as session:
        tree = load_area_tree(session)
        rows = session.execute(
            select(Observation.indicator_key, Observation.area_key, Observation.observed_at, Observation.value)
        ).all()
    latest: dict[tuple[str, str], tuple[datetime, float]] = {}
    recent: dict[tuple[str, str], list[tuple[datetime, float]]] = defaultdict(list)
    for indicator, area, at, value in rows:
        key = (indicator, area)
        if key not in latest or at > latest[key][0]:
            latest[key] = (at, value)
        if at >= since:
            recent[key].append((at, value))
    for points in recent.values():
        points.sort()
    return compute_picture(tree, config, latest=latest, recent=recent, now=now, since_lookup=lambda *_: None)


def observations_body(batch: int, count: int, now: datetime) -> dict[str, Any]:
    municipalities = AREAS[1:]
    return {
        "observations": [
            {
                "indicator": f"bench_{i % INDICATORS:02d}",
                "area": municipalities[i % len(municipalities)],
                "value": 50.0 + i % 7,
                "observed_at": (now + timedelta(seconds=i % 600, microseconds=batch)).isoformat(),
                "source": "bench-post",
                "source_id": f"{batch}-{i}",
            }
            for i in range(count)
        ]
    }


def report(label: str, timings: Timings, target: float | None = None) -> None:
    median = statistics.median(timings.wall)
    worst = max(timings.wall)
    cpu = statistics.median(timings.cpu)
    verdict = "" if target is None else ("  OK" if median < target else f"  ABOVE TARGET {target:.0f} ms")
    print(
        f"  {label:<58} median {median:9.1f} ms  max {worst:9.1f} ms  CPU {cpu:7.1f} ms  (n={len(timings.wall)})"
        f"{verdict}"
    )


def print_profile(once: Callable[[], Any], top: int) -> None:
    """One more run under cProfile: its ``top`` functions by their own time and by time including callees."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(once)
    for order in ("tottime", "cumulative"):
        print(f"\n-- profile of 1 000 observations read and stored (no HTTP), by {order} --", flush=True)
        pstats.Stats(profiler).strip_dirs().sort_stats(order).print_stats(top)


def run(admin_url: str, *, hours: int, profile: int) -> None:
    from fastapi.testclient import TestClient

    from alueturva.app.wiring import prepare_database
    from alueturva.auth.models import Role
    from alueturva.auth.service import SYSTEM, create_api_key
    from alueturva.db import Database, get_database, set_database, utcnow
    from alueturva.queue import InProcessQueue, set_queue
    from alueturva.settings import get_settings
    from situation.config import set_readiness_config
    from situation.flows import current_picture

    set_readiness_config(bench_config())
    with bench_database(admin_url) as url:
        os.environ["ALUETURVA_DATABASE_URL"] = url
        get_settings.cache_clear()
        prepare_database(url)
        set_database(Database(url))
        now = utcnow().replace(microsecond=0) - timedelta(minutes=1)

        rows, seconds = load(url, now, hours)
        print(
            f"loaded {rows:,} observations ({len(AREAS)} areas x {INDICATORS} indicators x {hours} h) "
            f"in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)"
        )

        print("picture (12 areas, 240 applicable series, 270 stored series; HTTP over an in-process ASGI client):")
        with get_database().session() as session:
            picture = current_picture(session, now=now)
        raised = {
            a["key"]: a["recommended"]["level"]
            for a in picture["areas"]
            if a["recommended"]["level"] not in (None, "perusvalmius")
        }
        print(f"  recommended above perusvalmius: {raised}")

        def picture_once() -> None:
            with get_database().session() as session:
                current_picture(session, now=now)

        report("indexed (latest table + recent window)", timed(picture_once, 20), target=200)
        report("naive baseline (all observations into Python)", timed(lambda: naive_picture(now), 2))

        set_queue(InProcessQueue(workers=1))
        with get_database().session() as session:
            _, key = create_api_key(session, name="bench", role=Role.reporter, created_by=SYSTEM)
            _, viewer_key = create_api_key(session, name="bench viewer", role=Role.viewer, created_by=SYSTEM)
        from alueturva.app.http import create_app

        headers = {"Authorization": f"Bearer {key}"}
        with TestClient(create_app()) as client:

            def get_picture() -> None:
                response = client.get("/api/v1/situation", headers={"Authorization": f"Bearer {viewer_key}"})
                assert response.status_code == 200, response.text[:500]

            report("GET /api/v1/situation (auth, validation, JSON)", timed(get_picture, 20), target=200)
            print("posting observations over HTTP (in-process ASGI client):")
            batches = iter(range(1, 10_000))
            post_now = utcnow() - timedelta(hours=1)

            def post_thousand() -> None:
                response = client.post(
                    "/api/v1/observations", json=observations_body(next(batches), 1000, post_now), headers=headers
                )
                assert response.status_code == 200 and response.json()["stored"] == 1000, response.text[:500]

            report("1 000 observations in one request", timed(post_thousand, 5), target=100)
            if profile:  # the server's side alone (the test client runs the application in another thread)
                from situation.observations import ingest_observations
                from situation.schemas import ObservationIn

                def ingest_thousand() -> None:
                    body = observations_body(next(batches), 1000, post_now)["observations"]
                    items = [ObservationIn.model_validate(observation) for observation in body]
                    assert ingest_observations(items=items, actor="bench").stored == 1000

                print_profile(ingest_thousand, profile)

            def post_one() -> None:
                body = observations_body(next(batches), 1, post_now)["observations"][0]
                response = client.post("/api/v1/observations", json=body, headers=headers)
                assert response.status_code == 200, response.text[:500]

            one = timed(post_one, 50)
            per_observation_ms = statistics.median(one.wall)
            thousand_s = per_observation_ms * 1000 / 1000  # 1 000 observations, ms -> s
            label = "naive baseline: one request per observation"
            print(
                f"  {label:<58} median {per_observation_ms:9.1f} ms each -> {thousand_s:.1f} s for 1 000 "
                f"(CPU {statistics.median(one.cpu):.1f} ms each, n=50)"
            )
        set_queue(None)
    set_readiness_config(None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("ALUETURVA_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL URL of a database from which a bench database can be created",
    )
    parser.add_argument("--timeout", type=int, default=900, help="stop (and drop the database) after this many seconds")
    parser.add_argument("--hours", type=int, default=HOURS, help="hours of history per series (a year: 8760)")
    parser.add_argument("--profile", type=int, default=0, help="also print the 1 000-observation POST's N costliest")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load average before the run {os.getloadavg()[0]:.2f}", flush=True)

    def expire(_signum: int, _frame: Any) -> None:
        raise BenchTimeout(f"benchmark stopped after {args.timeout} s")

    signal.signal(signal.SIGALRM, expire)
    signal.alarm(args.timeout)
    try:
        run(args.admin_url, hours=args.hours, profile=args.profile)
    except BenchTimeout as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    finally:
        signal.alarm(0)


if __name__ == "__main__":
    main()
