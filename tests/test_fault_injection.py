"""Fault injection on the production stack (issue 14): PostgreSQL, a private Redis, two `alueturva worker`
processes, `alueturva scheduler` and an `alueturva serve` API process, the real Twilio SDK against the loopback
Twilio server.

In the middle of a 500-recipient fan-out the database goes away for 10 s (it refuses connections and every open
one is terminated, as when it restarts or a network link drops); later Redis goes away for 10 s. While the database
is away the API answers 503 with a clear body at once instead of hanging. Afterwards every delivery reaches a final
state, each message is sent once, and the only duplicates allowed are messages whose answer from the provider could
not be recorded because the database was away at that moment (the Messages API has no idempotency key:
docs/architecture.md §4).

Timings are printed (run with ``-s`` to see them); no assertion is about how long anything took.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from alerting.models import DeliveryState
from alueturva.auth.models import Role
from alueturva.db import Database
from loopback.processes import ApiServer, RedisServer, SchedulerProcess, service_env
from tests.conftest import PG_ADMIN_URL, auth
from tests.support.fixtures import WorkerPool
from tests.support.roster import settled
from tests.test_alerting_reliability import (
    DeliveryRow,
    add_people,
    deliveries,
    mobile,
    needs_postgresql,
    send_alert,
    wait_for,
)

RECIPIENTS = 500
OUTAGE_SECONDS = 10.0
SETTLE_TIMEOUT = 150.0
# Production-like recovery: a claim outlives an outage of 10 s (the default is 60 s), and retries back off long
# enough (1, 2, 4, 8 s ...) that an SMS rate limiter without Redis for 10 s does not use up a delivery's attempts.
SETTINGS = {
    "ALUETURVA_DELIVERY_CLAIM_LEASE_SECONDS": "30",
    "ALUETURVA_DELIVERY_REQUEUE_AFTER_SECONDS": "2",
    "ALUETURVA_ALERT_SWEEP_INTERVAL_SECONDS": "0.5",
    "ALUETURVA_DELIVERY_RETRY_BASE_SECONDS": "1",
    "ALUETURVA_DELIVERY_RETRY_MAX_SECONDS": "8",
    "ALUETURVA_DELIVERY_MAX_ATTEMPTS": "10",
    "ALUETURVA_SMS_RATE_PER_SECOND": "60",
}


@contextmanager
def database_away(url: str) -> Iterator[None]:
    """The database refuses new connections and every open one is terminated, until the block ends."""
    name = make_url(url).database
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    terminate = text(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
    )
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(terminate, {"name": name})
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


@contextmanager
def redis_away(redis: RedisServer) -> Iterator[None]:
    redis.kill()
    try:
        yield
    finally:
        redis.start()


@needs_postgresql
@pytest.mark.slow
@pytest.mark.timeout(400)
def test_database_and_redis_outages_mid_fan_out_lose_nothing_and_send_nothing_twice(
    database: Database,
    database_url: str,
    twilio_settings: object,
    redis_server: RedisServer,
    rq_client: TestClient,
    rq_workers: WorkerPool,
    scheduler_process: Callable[..., SchedulerProcess],
    keys: dict[Role, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from alueturva.settings import get_settings
    from loopback.twilio_server import FakeTwilio

    fake = twilio_settings
    assert isinstance(fake, FakeTwilio)
    fake.latency = 0.02
    for name, value in SETTINGS.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    people = add_people(database, RECIPIENTS)
    rq_workers(2)
    scheduler_process()
    api = ApiServer(service_env(), tmp_path / "api.log").start()
    timings: dict[str, float] = {}
    try:
        started = time.time()
        alert_id = send_alert(rq_client, keys[Role.operator], people, ["sms"])

        def sent() -> int:
            return len({message["to"] for message in fake.messages})

        def rows() -> list[DeliveryRow]:
            return deliveries(database, alert_id)

        wait_for(lambda: sent() >= RECIPIENTS // 5, timeout=60, what="a fifth of the fan-out", context=rq_workers.logs)
        outages: list[tuple[float, float]] = []

        # --- the database goes away ---
        with database_away(database_url):
            db_down = time.time()
            answers = []
            while time.time() - db_down < OUTAGE_SECONDS:
                asked = time.perf_counter()
                response = httpx.get(f"{api.url}/api/v1/alerts/{alert_id}", headers=auth(keys[Role.viewer]), timeout=15)
                answers.append((response.status_code, response.json(), time.perf_counter() - asked))
                health = httpx.get(f"{api.url}/healthz", timeout=15)
                assert health.status_code == 503 and health.json()["database"] == "unavailable"
                time.sleep(1.0)
        outages.append((db_down, time.time()))
        assert answers and {status for status, _, _ in answers} == {503}
        assert all("database" in body["detail"] for _, body, _ in answers)
        timings["api_503_slowest_s"] = max(seconds for _, _, seconds in answers)

        # --- later, Redis goes away ---
        wait_for(
            lambda: sent() >= RECIPIENTS * 3 // 5 or sent() == RECIPIENTS,
            timeout=90,
            what="three fifths of the fan-out after the database came back",
            context=rq_workers.logs,
        )
        unsent_at_redis_down = RECIPIENTS - sent()
        with redis_away(redis_server):
            redis_down = time.time()
            time.sleep(OUTAGE_SECONDS)
        outages.append((redis_down, time.time()))

        wait_for(
            lambda: settled(database, alert_id),
            timeout=SETTLE_TIMEOUT,
            what="every delivery final",
            context=rq_workers.logs,
        )
        timings["settled_after_redis_back_s"] = time.time() - outages[1][1]
        timings["total_s"] = time.time() - started
    finally:
        api.terminate()

    final = rows()
    assert Counter(row.state for row in final) == {DeliveryState.sent: RECIPIENTS}, rq_workers.logs()
    accepted = {message["sid"]: message["to"] for message in fake.messages}
    assert all(accepted.get(row.provider_id) == row.address for row in final)
    sent_to = Counter(message["to"] for message in fake.messages)
    assert set(sent_to) == {mobile(n) for n in range(RECIPIENTS)}

    def in_an_outage(moment: float | None) -> bool:
        return moment is not None and any(start - 1.0 <= moment <= end for start, end in outages)

    in_flight = {r["to"] for r in fake.requests if r["status"] == 201 and in_an_outage(r["answered_at"])}
    accepted_in = [
        sum(1 for r in fake.requests if r["status"] == 201 and start <= (r["answered_at"] or 0) <= end)
        for start, end in outages
    ]
    duplicated = {to for to, count in sent_to.items() if count > 1}
    assert duplicated <= in_flight, f"sent twice without an outage to explain it: {sorted(duplicated - in_flight)}"
    assert unsent_at_redis_down > 0, "the fan-out finished before Redis went away; nothing was tested"
    print(
        f"\nfault injection: {RECIPIENTS} recipients; database away {OUTAGE_SECONDS:.0f} s "
        f"({accepted_in[0]} messages accepted meanwhile), Redis away {OUTAGE_SECONDS:.0f} s "
        f"({unsent_at_redis_down} not yet sent when it went, {accepted_in[1]} accepted meanwhile); "
        f"API 503 answers took at most {timings['api_503_slowest_s'] * 1000:.0f} ms; every delivery final "
        f"{timings['settled_after_redis_back_s']:.1f} s after Redis came back, {timings['total_s']:.1f} s after the "
        f"POST; {sum(count - 1 for count in sent_to.values())} duplicates, {len(in_flight)} answers in an outage"
    )
