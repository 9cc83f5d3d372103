"""Reliability of alert dispatch (issue 3, "Reliability: tests that prove it").

Real PostgreSQL, a private Redis, real `alueturva worker` and `alueturva scheduler` processes, the real Twilio SDK
against the loopback Twilio server and an aiosmtpd server. Nothing of ours is mocked: the test sends alerts through
the HTTP API, breaks a peer (kills a worker, flushes or restarts Redis, makes the provider fail, takes the mail
server down) and then reads the database and what the peers received.

Every wait polls the database against a deadline; no test asserts how long anything took.
"""

from __future__ import annotations

import itertools
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
from loopback.processes import RedisServer, SchedulerProcess
from loopback.smtp_server import SmtpServer
from loopback.twilio_server import FakeTwilio
from tests.conftest import auth
from tests.support.fixtures import WorkerPool
from tests.support.roster import settled

BACKEND = os.environ.get("ALUETURVA_TEST_DB", "postgresql")
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
    def context() -> str:
        states = Counter(row.state.value for row in deliveries(database, alert_id))
        return f"delivery states: {dict(states)}\n{workers.logs()}"

    wait_for(
        lambda: settled(database, alert_id),
        timeout=SETTLE_TIMEOUT,
        what="every delivery reaching a final state",
        context=context,
    )
    return deliveries(database, alert_id)


def describe_duplicates(fake: FakeTwilio, rows: list[DeliveryRow]) -> str:
    """For a failure message: each number messaged twice, its requests (time, status) and its delivery row."""
    first = min((request["received_at"] for request in fake.requests), default=0.0)
    sent_to = Counter(message["to"] for message in fake.messages)
    lines = []
    for to in [to for to, count in sent_to.items() if count > 1][:5]:
        requests = [(round(r["received_at"] - first, 3), r["status"]) for r in fake.requests if r["to"] == to]
        row = next((row for row in rows if row.address == to), None)
        lines.append(f"{to}: requests {requests}; delivery {row}")
    return "\n".join(lines)


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


# --- Redis flushed, or killed and restarted empty, in the middle of a fan-out ------------------------------------


@pytest.mark.parametrize("breakage", ["flushall", "restart"])
@pytest.mark.usefixtures("fast_recovery")
@pytest.mark.slow
@needs_postgresql
def test_redis_losing_everything_mid_fan_out_is_recovered_by_the_sweeper(
    database: Database,
    twilio_settings: FakeTwilio,
    redis_server: RedisServer,
    rq_client: TestClient,
    rq_workers: WorkerPool,
    scheduler_process: Callable[..., SchedulerProcess],
    operator_key: str,
    monkeypatch: pytest.MonkeyPatch,
    breakage: str,
) -> None:
    """``flushall``: every queued and scheduled job vanishes. ``restart``: the same, and every connection to Redis
    breaks (workers, the scheduler and the API reconnect)."""
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
    if breakage == "flushall":
        redis_server.flushall()
    else:
        redis_server.restart()
    unsent_at_flush = recipients - len({message["to"] for message in fake.messages})

    rows = wait_settled(database, alert_id, rq_workers)

    assert unsent_at_flush > 0, f"the fan-out finished before the {breakage}; nothing was tested"
    assert Counter(row.state for row in rows) == {DeliveryState.sent: recipients}
    sent_to = Counter(message["to"] for message in fake.messages)
    assert set(sent_to) == {mobile(n) for n in range(recipients)}
    assert max(sent_to.values()) == 1, f"{breakage} must not make anything go out twice"
    assert all(worker.alive() for worker in rq_workers.workers), rq_workers.logs()


# --- a batch that waits for the rate limit longer than its claim lease -------------------------------------------


@pytest.mark.usefixtures("fast_recovery")
@pytest.mark.slow
@needs_postgresql
def test_a_batch_slowed_by_the_rate_limit_keeps_its_claims(
    database: Database,
    twilio_settings: FakeTwilio,
    rq_client: TestClient,
    rq_workers: WorkerPool,
    scheduler_process: Callable[..., SchedulerProcess],
    operator_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One job claims all 15 deliveries; at 3 SMS/s the last waits 5 s for its turn, past the 2 s lease. An idle
    second worker and the sweeper stand ready to take over any claim that runs out: none may."""
    fake = twilio_settings
    recipients = 15
    monkeypatch.setenv("ALUETURVA_SMS_RATE_PER_SECOND", "3")
    monkeypatch.setenv("ALUETURVA_DELIVERY_CLAIM_LEASE_SECONDS", "2")
    people = add_people(database, recipients)
    rq_workers(2)
    scheduler_process()

    alert_id = send_alert(rq_client, operator_key, people, ["sms"])
    rows = wait_settled(database, alert_id, rq_workers)

    assert Counter(row.state for row in rows) == {DeliveryState.sent: recipients}
    assert fake.request_count == len(fake.messages) == recipients, describe_duplicates(fake, rows)
    assert [row.attempts for row in rows] == [1] * recipients, "a claim ran out and another job took it over"


# --- a provider that refuses 30 % of requests -------------------------------------------------------------------


def backoff_floor(attempt: int) -> float:
    """The shortest wait allowed after failed attempt ``attempt`` (1-based): the FAST_RECOVERY backoff, with its
    jitter at the low end (``alerting.dispatch.retry_delay``: base x 2^(n-1), capped, times 0.8..1.0)."""
    base = float(FAST_RECOVERY["ALUETURVA_DELIVERY_RETRY_BASE_SECONDS"])
    cap = float(FAST_RECOVERY["ALUETURVA_DELIVERY_RETRY_MAX_SECONDS"])
    return 0.8 * min(cap, base * 2 ** (attempt - 1))


@pytest.mark.usefixtures("fast_recovery")
@pytest.mark.slow
@needs_postgresql
def test_provider_failing_30_percent_delivers_everything_with_backoff(
    database: Database,
    twilio_settings: FakeTwilio,
    rq_client: TestClient,
    rq_workers: WorkerPool,
    scheduler_process: Callable[..., SchedulerProcess],
    operator_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = twilio_settings
    fake.fail_ratio = 0.3
    fake.fail_statuses = [429, 500]
    recipients = 200
    # 0.3^12: the chance that one delivery fails every attempt is negligible, so everything must arrive.
    monkeypatch.setenv("ALUETURVA_DELIVERY_MAX_ATTEMPTS", "12")
    # The send rate limit is not this test's subject: high enough that no claim waits out its 3 s lease.
    monkeypatch.setenv("ALUETURVA_SMS_RATE_PER_SECOND", "1000")
    people = add_people(database, recipients)
    rq_workers(2)
    scheduler_process()

    alert_id = send_alert(rq_client, operator_key, people, ["sms"])
    rows = wait_settled(database, alert_id, rq_workers)

    assert Counter(row.state for row in rows) == {DeliveryState.sent: recipients}
    statuses = Counter(request["status"] for request in fake.requests)
    assert statuses[429] > 0 and statuses[500] > 0, statuses
    assert statuses[201] == recipients, "each message accepted exactly once: " + describe_duplicates(fake, rows)

    requests_to: dict[str, list[dict[str, Any]]] = {}
    for request in sorted(fake.requests, key=lambda r: r["received_at"]):
        requests_to.setdefault(request["to"], []).append(request)
    for row in rows:
        attempts = requests_to[row.address]
        # Every attempt is recorded, and the last one is the accepted message whose id was stored.
        assert row.attempts == len(attempts), (row.address, row.attempts, [a["status"] for a in attempts])
        assert [a["status"] == 201 for a in attempts] == [False] * (len(attempts) - 1) + [True]
        assert attempts[-1]["sid"] == row.provider_id
        # Each retry waited at least its backoff, which doubles per attempt.
        for number, (failed, retried) in enumerate(itertools.pairwise(attempts), start=1):
            assert retried["received_at"] - failed["answered_at"] >= backoff_floor(number) - 0.01, (
                row.address,
                number,
            )
    assert sum(row.attempts for row in rows) == fake.request_count
    assert max(row.attempts for row in rows) >= 3, "no delivery needed a second retry; backoff growth untested"


# --- the mail server down ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("fast_recovery")
@pytest.mark.slow
@needs_postgresql
def test_smtp_down_fails_email_clearly_after_retries_and_sms_goes_out(
    database: Database,
    twilio_settings: FakeTwilio,
    smtp_settings: SmtpServer,
    rq_client: TestClient,
    rq_workers: WorkerPool,
    scheduler_process: Callable[..., SchedulerProcess],
    operator_key: str,
    keys: dict[Role, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake, smtp = twilio_settings, smtp_settings
    smtp.stop()
    recipients, max_attempts = 30, 4
    monkeypatch.setenv("ALUETURVA_DELIVERY_MAX_ATTEMPTS", str(max_attempts))
    people = add_people(database, recipients, with_email=True)
    rq_workers(2)
    scheduler_process()

    alert_id = send_alert(rq_client, operator_key, people, ["sms", "email"])
    rows = wait_settled(database, alert_id, rq_workers)

    sms = [row for row in rows if row.channel is Channel.sms]
    email = [row for row in rows if row.channel is Channel.email]
    assert len(sms) == len(email) == recipients
    assert all(row.state is DeliveryState.sent and row.attempts == 1 for row in sms)
    assert len(fake.messages) == recipients
    for row in email:
        assert row.state is DeliveryState.failed
        assert row.attempts == max_attempts
        assert row.error_code == "connection"
        assert row.error_message is not None
        assert f"{max_attempts} attempts" in row.error_message and "mail server" in row.error_message
    # SMS was not held up behind the email retries: every SMS was out before the first email gave up.
    assert max(row.sent_at for row in sms) < min(row.failed_at for row in email)
    assert smtp.messages == []

    # The operator sees it: everyone reached (by SMS), nobody counted as failed, each email failure explained.
    status = rq_client.get(f"/api/v1/alerts/{alert_id}", headers=auth(keys[Role.viewer])).json()
    assert status["counts"]["targeted"] == recipients
    assert status["counts"]["sent"] == recipients
    assert status["deliveries"].get("failed") == recipients
    listing = rq_client.get(f"/api/v1/alerts/{alert_id}/recipients", headers=auth(keys[Role.viewer])).json()
    failed_emails = [d for item in listing["items"] for d in item["deliveries"] if d["channel"] == "email"]
    assert all(d["state"] == "failed" and d["error_message"] for d in failed_emails)


# --- forged, unsigned and replayed webhooks; tampered and expired acknowledgement links ---------------------------


@dataclass(frozen=True)
class SentAlert:
    alert_id: int
    recipient_id: int
    mobile: str
    sid: str
    ack_link: str


@pytest.fixture
def sent_alert(
    database: Database,
    twilio_settings: FakeTwilio,
    smtp_settings: SmtpServer,
    client: TestClient,
    queue: Any,
    operator_key: str,
) -> SentAlert:
    """An alert sent by SMS (through the fake Twilio) and email (through aiosmtpd) to one person."""
    [person] = add_people(database, 1, with_email=True)
    alert_id = send_alert(client, operator_key, [person], ["sms", "email"])
    wait_for(lambda: queue.join(timeout=0.1) and len(smtp_settings.messages) == 1, timeout=30, what="sending")
    [message] = twilio_settings.messages
    body = smtp_settings.messages[0].get_body(("plain",))
    assert body is not None
    [link] = [word for word in body.get_content().split() if "/ack/" in word]
    with database.session() as session:
        recipient_id = session.scalar(select(Delivery.recipient_id).where(Delivery.provider_id == message["sid"]))
    assert recipient_id is not None
    return SentAlert(alert_id, recipient_id, message["to"], message["sid"], link)


@dataclass(frozen=True)
class Record:
    """Everything a webhook or an acknowledgement could have written."""

    deliveries: tuple[tuple[Any, ...], ...]
    acknowledged: tuple[tuple[Any, ...], ...]
    inbound: int
    audit: int


def record(database: Database) -> Record:
    from alerting.models import InboundMessage, Recipient
    from alueturva.audit.models import AuditEvent

    with database.session() as session:
        return Record(
            deliveries=tuple(
                tuple(row)
                for row in session.execute(
                    select(Delivery.id, Delivery.state, Delivery.delivered_at, Delivery.error_code).order_by(
                        Delivery.id
                    )
                )
            ),
            acknowledged=tuple(
                tuple(row)
                for row in session.execute(
                    select(Recipient.id, Recipient.acknowledged_at, Recipient.ack_method, Recipient.response)
                )
            ),
            inbound=len(session.scalars(select(InboundMessage.id)).all()),
            audit=len(session.scalars(select(AuditEvent.id)).all()),
        )


def status_url(fake: FakeTwilio, sid: str) -> str:
    return str(fake.message(sid)["status_callback"])


def test_status_callbacks_unsigned_forged_or_tampered_are_refused(
    database: Database, twilio_settings: FakeTwilio, client: TestClient, sent_alert: SentAlert
) -> None:
    fake = twilio_settings
    url = status_url(fake, sent_alert.sid)
    params = {"MessageSid": sent_alert.sid, "MessageStatus": "delivered", "AccountSid": fake.account_sid}
    before = record(database)
    wrong_token = FakeTwilio(auth_token="not-the-token")
    other_url = url.replace("127.0.0.1:8000", "attacker.example")
    attempts = {
        "unsigned": client.post(url, data=params),
        "signed with another token": client.post(url, data=params, headers=wrong_token.signed(url, params)),
        "signed for another URL": client.post(url, data=params, headers=fake.signed(other_url, params)),
        "body changed after signing": client.post(
            url, data={**params, "MessageStatus": "undelivered"}, headers=fake.signed(url, params)
        ),
        "empty signature": client.post(url, data=params, headers={"X-Twilio-Signature": ""}),
    }

    assert {name: response.status_code for name, response in attempts.items()} == dict.fromkeys(attempts, 403)
    assert all("X-Twilio-Signature" in response.json()["detail"] for response in attempts.values())
    assert record(database) == before
    # The genuine callback is taken, which shows the refusals were about the signature alone.
    assert fake.send_status_callback(sent_alert.sid, "delivered", http=client) == 204
    assert record(database) != before


def test_inbound_sms_unsigned_forged_or_replayed_is_refused(
    database: Database, twilio_settings: FakeTwilio, client: TestClient, sent_alert: SentAlert
) -> None:
    fake = twilio_settings
    url = "http://127.0.0.1:8000/webhooks/twilio/sms"
    params = fake.inbound_sms_params(from_=sent_alert.mobile, body="OK")
    before = record(database)

    unsigned = client.post(url, data=params)
    forged = client.post(url, data=params, headers=FakeTwilio(auth_token="guess").signed(url, params))
    other_sender = client.post(
        url, data={**params, "From": "+358401111111"}, headers=fake.signed(url, params)
    )  # signed for the real sender, sent as someone else
    assert (unsigned.status_code, forged.status_code, other_sender.status_code) == (403, 403, 403)
    assert record(database) == before

    genuine = client.post(url, data=params, headers=fake.signed(url, params))
    assert genuine.status_code == 200
    assert "<Message>" in genuine.text
    acknowledged = record(database)
    assert acknowledged.inbound == before.inbound + 1
    assert next(row for row in acknowledged.acknowledged if row[0] == sent_alert.recipient_id)[1] is not None

    replayed = client.post(url, data=params, headers=fake.signed(url, params))
    assert replayed.status_code == 409
    assert record(database) == acknowledged


def test_ack_links_tampered_expired_or_for_another_recipient_are_refused(
    database: Database,
    client: TestClient,
    sent_alert: SentAlert,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from alueturva.settings import get_settings

    link = sent_alert.ack_link
    path = "/ack/" + link.split("/ack/", 1)[1]
    token = path.removeprefix("/ack/")
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    payload, _, signature = token.partition(".")
    before = record(database)

    refused = {
        "tampered signature": client.post(f"/ack/{flipped}", data={}),
        "tampered payload": client.post(f"/ack/{payload[:-1]}{'x' if payload[-1] != 'x' else 'y'}.{signature}"),
        "not a token": client.post("/ack/not-a-token", data={}),
        "very long": client.post("/ack/" + "a" * 5000, data={}),
    }
    assert all(400 <= r.status_code < 500 for r in refused.values()), {k: r.status_code for k, r in refused.items()}
    assert record(database) == before

    # A GET (a mail scanner following the link) shows the alert but acknowledges nothing.
    assert client.get(path).status_code == 200
    assert record(database) == before

    # The same link, once it is older than the configured lifetime, is refused too.
    monkeypatch.setenv("ALUETURVA_ACK_TOKEN_MAX_AGE_SECONDS", "1")
    get_settings.cache_clear()
    time.sleep(2.1)
    expired = client.post(path, data={})
    assert 400 <= expired.status_code < 500
    assert record(database) == before

    monkeypatch.delenv("ALUETURVA_ACK_TOKEN_MAX_AGE_SECONDS")
    get_settings.cache_clear()
    assert client.post(path, data={}).status_code == 200
    assert record(database) != before
