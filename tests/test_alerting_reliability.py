"""Reliability of alert dispatch (issue 3, "Reliability: tests that prove it").

Real PostgreSQL, a private Redis, real `alueturva worker` and `alueturva scheduler` processes, the real Twilio SDK
against the loopback Twilio server and an aiosmtpd server. Nothing of ours is mocked: the test sends alerts through
the HTTP API, breaks a peer (kills a worker, flushes Redis, makes the provider fail, takes the mail server down)
and then reads the database and what the peers received.

Every wait polls the database against a deadline; no test asserts how long anything took.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from alerting.models import Channel, Delivery, DeliveryState
from alueturva.auth.models import Role
from alueturva.db import Database
from contacts.models import Organisation, Person
from tests.conftest import auth
from tests.support.fixtures import WorkerPool
from tests.support.processes import SchedulerProcess
from tests.support.twilio_server import FakeTwilio

BACKEND = os.environ.get("ALUETURVA_TEST_DB", "postgresql")
OPEN_STATES = {DeliveryState.queued, DeliveryState.sending}
SETTLE_TIMEOUT = 90.0

needs_postgresql = pytest.mark.skipif(
    BACKEND == "sqlite",
    reason="multi-process reliability tests run on PostgreSQL: worker processes, the scheduler and the test write "
    "one database at once, as in production (SQLite is the single-process embedded mode, tested elsewhere)",
)

# Short timings so that recovery happens within seconds (the defaults are production values).
FAST_RECOVERY = {
    "ALUETURVA_DELIVERY_CLAIM_LEASE_SECONDS": "3",
    "ALUETURVA_DELIVERY_REQUEUE_AFTER_SECONDS": "2",
    "ALUETURVA_ALERT_SWEEP_INTERVAL_SECONDS": "0.5",
    "ALUETURVA_DELIVERY_RETRY_BASE_SECONDS": "0.2",
    "ALUETURVA_DELIVERY_RETRY_MAX_SECONDS": "1",
}


@pytest.fixture
def fast_recovery(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    from alueturva.settings import get_settings

    for name, value in FAST_RECOVERY.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return FAST_RECOVERY


def mobile(n: int) -> str:
    return f"+35850{n:07d}"


def add_people(database: Database, count: int, *, with_email: bool = False) -> list[int]:
    with database.session() as session:
        organisation_id = session.scalar(select(Organisation.id).order_by(Organisation.id).limit(1))
        rows = [
            {
                "name": f"Testi Henkilö {n}",
                "organisation_id": organisation_id,
                "mobile": mobile(n),
                "email": f"henkilo{n}@example.test" if with_email else None,
                "language": ("fi", "sv", "en")[n % 3],
                "active": True,
            }
            for n in range(count)
        ]
        return list(session.scalars(insert(Person).returning(Person.id, sort_by_parameter_order=True), rows))


def send_alert(client: TestClient, operator_key: str, people: list[int], channels: list[str]) -> int:
    response = client.post(
        "/api/v1/alerts",
        json={
            "title": "Harjoitus",
            "message": "Tämä on luotettavuustesti.",
            "targets": {"people": people},
            "channels": channels,
            "exercise": True,
            "idempotency_key": f"reliability-{uuid.uuid4().hex}",
        },
        headers=auth(operator_key),
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    channel: Channel
    address: str
    state: DeliveryState
    attempts: int
    provider_id: str | None
    sent_at: Any
    failed_at: Any
    error_code: str | None
    error_message: str | None


def deliveries(database: Database, alert_id: int) -> list[DeliveryRow]:
    with database.session() as session:
        rows = session.execute(
            select(
                Delivery.id,
                Delivery.channel,
                Delivery.address,
                Delivery.state,
                Delivery.attempts,
                Delivery.provider_id,
                Delivery.sent_at,
                Delivery.failed_at,
                Delivery.error_code,
                Delivery.error_message,
            )
            .where(Delivery.alert_id == alert_id)
            .order_by(Delivery.id)
        ).all()
    return [DeliveryRow(**row._mapping) for row in rows]


def wait_for(
    condition: Callable[[], bool], *, timeout: float, what: str, context: Callable[[], str] = lambda: ""
) -> None:
    """Poll ``condition`` until it holds; fail with ``what`` and ``context()`` at the deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s\n{context()}")
        time.sleep(0.05)


def wait_settled(database: Database, alert_id: int, workers: WorkerPool) -> list[DeliveryRow]:
    def settled() -> bool:
        return all(row.state not in OPEN_STATES for row in deliveries(database, alert_id))

    def context() -> str:
        states = Counter(row.state.value for row in deliveries(database, alert_id))
        return f"delivery states: {dict(states)}\n{workers.logs()}"

    wait_for(settled, timeout=SETTLE_TIMEOUT, what="every delivery reaching a final state", context=context)
    return deliveries(database, alert_id)


@pytest.fixture
def operator_key(keys: dict[Role, str]) -> str:
    return keys[Role.operator]


# --- a worker killed in the middle of a fan-out -----------------------------------------------------------------


@pytest.mark.usefixtures("fast_recovery")
@pytest.mark.slow
@needs_postgresql
def test_kill_9_of_a_worker_mid_fan_out_loses_nothing(
    database: Database,
    twilio_settings: FakeTwilio,
    rq_client: TestClient,
    rq_workers: WorkerPool,
    scheduler_process: Callable[..., SchedulerProcess],
    operator_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = twilio_settings
    recipients = 500
    fake.latency = 0.05
    monkeypatch.setenv("ALUETURVA_SMS_RATE_PER_SECOND", "200")  # the fan-out takes a few seconds
    people = add_people(database, recipients)
    [first] = rq_workers(1)
    scheduler_process()

    alert_id = send_alert(rq_client, operator_key, people, ["sms"])
    wait_for(
        lambda: len(fake.messages) >= recipients // 4,
        timeout=SETTLE_TIMEOUT,
        what="a quarter of the fan-out reaching the provider",
        context=rq_workers.logs,
    )
    kill_started = time.time()
    first.kill9()
    kill_done = time.time()
    recorded_at_kill = {row.provider_id for row in deliveries(database, alert_id) if row.provider_id}
    rq_workers(1)

    rows = wait_settled(database, alert_id, rq_workers)

    # Every delivery was sent and recorded with the id the provider gave it.
    assert len(rows) == recipients
    assert Counter(row.state for row in rows) == {DeliveryState.sent: recipients}
    accepted = {message["sid"]: message["to"] for message in fake.messages}
    assert all(row.provider_id in accepted and accepted[row.provider_id] == row.address for row in rows)
    assert {message["to"] for message in fake.messages} == {mobile(n) for n in range(recipients)}

    # A duplicate can only come from a request whose answer the killed worker had not recorded yet.
    sent_to = Counter(message["to"] for message in fake.messages)
    in_flight = [
        request
        for request in fake.requests
        if request["received_at"] <= kill_done
        and not ((request["answered_at"] or kill_done) < kill_started and request["sid"] in recorded_at_kill)
    ]
    duplicated = {to for to, count in sent_to.items() if count > 1}
    duplicates = sum(count - 1 for count in sent_to.values())
    assert duplicates <= len(in_flight), f"{duplicates} duplicates, {len(in_flight)} requests in flight at the kill"
    assert duplicated <= {request["to"] for request in in_flight}


# --- Redis flushed in the middle of a fan-out -------------------------------------------------------------------


@pytest.mark.usefixtures("fast_recovery")
@pytest.mark.slow
@needs_postgresql
def test_flushall_mid_fan_out_is_recovered_by_the_sweeper(
    database: Database,
    twilio_settings: FakeTwilio,
    redis_server: Any,
    rq_client: TestClient,
    rq_workers: WorkerPool,
    scheduler_process: Callable[..., SchedulerProcess],
    operator_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = twilio_settings
    fake.latency = 0.05
    recipients = 400
    monkeypatch.setenv("ALUETURVA_SMS_RATE_PER_SECOND", "150")
    monkeypatch.setenv("ALUETURVA_SEND_BATCH_SIZE", "20")  # many queued jobs for FLUSHALL to throw away
    people = add_people(database, recipients)
    rq_workers(2)
    scheduler_process()

    alert_id = send_alert(rq_client, operator_key, people, ["sms"])
    wait_for(
        lambda: len(fake.messages) >= recipients // 5,
        timeout=SETTLE_TIMEOUT,
        what="a fifth of the fan-out reaching the provider",
        context=rq_workers.logs,
    )
    redis_server.flushall()
    unsent_at_flush = recipients - len({message["to"] for message in fake.messages})

    rows = wait_settled(database, alert_id, rq_workers)

    assert unsent_at_flush > 0, "the fan-out finished before the flush; nothing was tested"
    assert Counter(row.state for row in rows) == {DeliveryState.sent: recipients}
    sent_to = Counter(message["to"] for message in fake.messages)
    assert set(sent_to) == {mobile(n) for n in range(recipients)}
    assert max(sent_to.values()) == 1, "FLUSHALL must not make anything go out twice"
    assert all(worker.alive() for worker in rq_workers.workers), rq_workers.logs()
