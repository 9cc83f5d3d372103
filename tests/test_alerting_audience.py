"""A large alert's people made recipients in chunks after its first batch (issue 24, ``alerting.audience``).

The alert's transaction commits the alert, the people its targets name and the first 25 recipients with their
deliveries; the rest are added a chunk per transaction. These tests prove that however the chunks are run (once,
twice, at the same time, after the job was lost, after a worker was killed between chunks) everyone becomes a
recipient exactly once and gets each message exactly once, and that the alert's figures count the people still to
add from the start.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from alerting import flows
from alerting.audience import add_audience, resume_stalled
from alerting.dispatch import FIRST_BATCH_SIZE
from alerting.escalation import run_due_timers
from alerting.models import Alert, Delivery, DeliveryKind, DeliveryState, Recipient
from alerting.schemas import AlertCreate
from alerting.sweeper import sweep
from alueturva.audit.models import AuditEvent
from alueturva.db import Database, utcnow
from alueturva.queue import InProcessQueue, set_queue
from alueturva.settings import get_settings
from loopback.processes import SchedulerProcess
from loopback.twilio_server import FakeTwilio
from tests.support.fixtures import WorkerPool
from tests.test_alerting_reliability import (
    add_people,
    fast_recovery,  # noqa: F401  (a fixture)
    mobile,
    needs_postgresql,
    operator_key,  # noqa: F401  (a fixture)
    send_alert,
    wait_for,
    wait_settled,
)

PEOPLE = 60
CHUNK = 10


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ALUETURVA_ALERT_CHUNK_SIZE", str(CHUNK))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def lost_queue() -> Iterator[InProcessQueue]:
    """A queue whose jobs never run: Redis flushed, or the process that queued them died."""
    lost = InProcessQueue(workers=0)
    set_queue(lost)
    yield lost
    set_queue(None)


def _create(people: list[int], *, channels: tuple[str, ...] = ("sms", "email")) -> flows.CreatedAlert:
    request = AlertCreate.model_validate(
        {"title": "Harjoitus", "message": "Testi", "targets": {"people": people}, "channels": list(channels)}
    )
    return flows.create_alert(request, actor="test")


def _recipients(database: Database, alert_id: int) -> Counter[int]:
    with database.session() as session:
        return Counter(session.scalars(select(Recipient.person_id).where(Recipient.alert_id == alert_id)))


def _first_round(database: Database, alert_id: int) -> list[tuple[int, str, DeliveryState]]:
    """(person, channel, state) of every first-round delivery."""
    with database.session() as session:
        rows = session.execute(
            select(Recipient.person_id, Delivery.channel, Delivery.state)
            .join(Recipient, Recipient.id == Delivery.recipient_id)
            .where(Delivery.alert_id == alert_id, Delivery.kind == DeliveryKind.alert, Delivery.round == 0)
        ).all()
    return [(row[0], row[1].value, row[2]) for row in rows]


def _progress(database: Database, alert_id: int) -> tuple[list[int] | None, int, object]:
    with database.session() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        return alert.audience, alert.audience_done, alert.audience_progress_at


def _assert_everyone_once(database: Database, alert_id: int, people: list[int], channels: int) -> None:
    assert _recipients(database, alert_id) == Counter(people)
    deliveries = Counter((person, channel) for person, channel, _ in _first_round(database, alert_id))
    assert len(deliveries) == len(people) * channels and set(deliveries.values()) == {1}
    assert _progress(database, alert_id) == (None, len(people) - FIRST_BATCH_SIZE, None)


@pytest.mark.usefixtures("small_chunks")
def test_a_large_alert_reaches_everyone_once_through_its_chunks(database: Database, queue: InProcessQueue) -> None:
    people = add_people(database, PEOPLE, with_email=True)
    created = _create(people)
    assert created.deliveries == 2 * PEOPLE  # what the alert will send, not only its first batch
    assert queue.join()
    _assert_everyone_once(database, created.alert_id, people, channels=2)
    assert {state for _, _, state in _first_round(database, created.alert_id)} == {DeliveryState.sent}
    with database.session() as session:
        details = session.scalars(
            select(AuditEvent.details).where(
                AuditEvent.action == "alert.send", AuditEvent.entity_id == str(created.alert_id)
            )
        ).one()
    assert (details["recipients"], details["deliveries"]) == (PEOPLE, 2 * PEOPLE)
    assert add_audience(created.alert_id) == 0  # run again: nothing more to add


@pytest.mark.usefixtures("small_chunks")
def test_an_alert_whose_job_was_lost_is_finished_by_the_sweeper_exactly_once(
    database: Database, lost_queue: InProcessQueue
) -> None:
    people = add_people(database, PEOPLE, with_email=True)
    created = _create(people)
    assert len(_recipients(database, created.alert_id)) == FIRST_BATCH_SIZE
    # the figures count the people still to add as targeted from the start
    assert flows.alert_status(created.alert_id).counts.targeted == PEOPLE

    assert sweep()["audiences_resumed"] == 0  # too early: the job may still be on its way
    later = utcnow() + timedelta(minutes=1)
    assert sweep(now=later) == {  # the remaining people added, and every delivery queued again (lost again)
        "audiences_resumed": 1,
        "requeued": 2 * PEOPLE,
        "escalation_steps": 0,
        "calls_stopping": 0,
    }
    working = InProcessQueue(workers=2)
    set_queue(working)
    assert sweep(now=later + timedelta(minutes=1)) == {
        "audiences_resumed": 0,
        "requeued": 2 * PEOPLE,  # each delivery once
        "escalation_steps": 0,
        "calls_stopping": 0,
    }
    assert working.join()
    _assert_everyone_once(database, created.alert_id, people, channels=2)
    assert {state for _, _, state in _first_round(database, created.alert_id)} == {DeliveryState.sent}
    assert flows.alert_status(created.alert_id).counts.targeted == PEOPLE


@pytest.mark.usefixtures("small_chunks")
def test_two_runs_at_once_add_each_person_once(database: Database, lost_queue: InProcessQueue) -> None:
    people = add_people(database, PEOPLE)
    created = _create(people, channels=("sms",))
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(add_audience(created.alert_id))
        except BaseException as exc:  # reported below, with the other run's result
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and sum(results) == PEOPLE - FIRST_BATCH_SIZE
    _assert_everyone_once(database, created.alert_id, people, channels=1)


@pytest.mark.usefixtures("small_chunks")
def test_escalation_waits_until_everyone_is_a_recipient(database: Database, lost_queue: InProcessQueue) -> None:
    people = add_people(database, PEOPLE)
    created = _create(people, channels=("sms",))
    much_later = utcnow() + timedelta(hours=6)  # every step is due, the alert's closing too
    assert run_due_timers(now=much_later) == 0
    assert resume_stalled(now=much_later) == 1
    assert run_due_timers(now=much_later) > 0
    with database.session() as session:
        reminded = session.scalar(
            select(func.count(func.distinct(Delivery.recipient_id))).where(
                Delivery.alert_id == created.alert_id, Delivery.kind == DeliveryKind.reminder
            )
        )
    assert reminded == PEOPLE  # the reminder reached the silent people of every chunk


@pytest.mark.usefixtures("small_chunks")
def test_a_cancelled_alert_sends_its_remaining_people_nothing(database: Database, lost_queue: InProcessQueue) -> None:
    people = add_people(database, PEOPLE)
    created = _create(people, channels=("sms",))
    flows.cancel_alert(alert_id=created.alert_id, actor="test", reason="väärä hälytys")
    assert resume_stalled(now=utcnow() + timedelta(minutes=1)) == 1
    assert _recipients(database, created.alert_id) == Counter(people)  # targeted, as the alert said
    first_round = _first_round(database, created.alert_id)
    assert len(first_round) == FIRST_BATCH_SIZE
    assert {state for _, _, state in first_round} == {DeliveryState.cancelled}


# --- a worker killed between chunks (the production stack) --------------------------------------------------------


@contextmanager
def holding(database: Database, person_id: int) -> Iterator[None]:
    """Hold a person's row locked in a transaction of our own: the chunk that makes them a recipient waits for the
    lock (its foreign-key check) with its transaction open, after the chunks before it were committed."""
    with database.engine.connect() as connection:
        connection.execute(text("SELECT id FROM people WHERE id = :id FOR UPDATE"), {"id": person_id})
        yield
        connection.rollback()


def waiting_on_a_lock(database: Database) -> bool:
    with database.engine.connect() as connection:
        waiting = connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
    return bool(waiting)


@pytest.mark.usefixtures("fast_recovery")
@pytest.mark.slow
@needs_postgresql
def test_kill_9_of_the_worker_between_chunks_adds_and_messages_everyone_once(
    database: Database,
    twilio_settings: FakeTwilio,
    rq_client: TestClient,
    rq_workers: WorkerPool,
    scheduler_process: Callable[..., SchedulerProcess],
    operator_key: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = twilio_settings
    recipients, chunk = 300, 50
    monkeypatch.setenv("ALUETURVA_ALERT_CHUNK_SIZE", str(chunk))
    monkeypatch.setenv("ALUETURVA_SMS_RATE_PER_SECOND", "500")
    people = add_people(database, recipients)
    committed_chunks = 2
    with holding(database, people[FIRST_BATCH_SIZE + committed_chunks * chunk]):
        [worker] = rq_workers(1)
        alert_id = send_alert(rq_client, operator_key, people, ["sms"])
        wait_for(
            lambda: _progress(database, alert_id)[1] == committed_chunks * chunk and waiting_on_a_lock(database),
            timeout=60,
            what="two chunks committed and the third waiting",
            context=rq_workers.logs,
        )
        worker.kill9()
    assert len(_recipients(database, alert_id)) == FIRST_BATCH_SIZE + committed_chunks * chunk

    rq_workers(1)
    scheduler_process()
    wait_for(lambda: _progress(database, alert_id)[0] is None, timeout=60, what="the sweeper finishing the chunks")
    rows = wait_settled(database, alert_id, rq_workers)

    _assert_everyone_once(database, alert_id, people, channels=1)
    assert Counter(row.state for row in rows) == {DeliveryState.sent: recipients}
    sent_to = Counter(message["to"] for message in fake.messages)
    assert set(sent_to) == {mobile(n) for n in range(recipients)}
    assert max(sent_to.values()) == 1, "nothing in flight at the kill: nothing may go out twice"
