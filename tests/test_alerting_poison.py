"""Poison messages (issue 14): one delivery that cannot be prepared or sent fails alone, with its reason recorded
and shown; the rest of its batch goes out; a job that fails the same way again and again backs off and gives up
instead of looping; what can be seen wrong at creation is made safe or refused there.

Each test runs on both databases; the in-process queue here, RQ with real workers on PostgreSQL at the end."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import func, insert, select, text, update

from alerting import flows
from alerting.dispatch import enqueue_deliveries
from alerting.messages import environment
from alerting.models import Alert, Channel, Delivery, DeliveryState
from alerting.schemas import AlertCreate
from alueturva.auth.models import Role
from alueturva.db import Database
from alueturva.queue import InProcessQueue, set_queue
from alueturva.settings import get_settings
from contacts.models import Organisation, Person
from loopback.processes import SchedulerProcess
from loopback.smtp_server import SmtpServer
from loopback.twilio_server import FakeTwilio
from tests.conftest import auth
from tests.support.fixtures import WorkerPool
from tests.support.roster import settled, wait_until
from tests.test_alerting_reliability import needs_postgresql, wait_settled

TITLE = {"fi": "Myrsky", "sv": "Storm", "en": "Storm"}
MESSAGE = {"fi": "Kokoontuminen.", "sv": "Samling.", "en": "Gather."}
BROKEN_EMAIL = "rikki\n@example.test"  # a stored address no mail header can carry (written past the validation)


def _people(database: Database, count: int, *, broken: int | None = None) -> list[int]:
    """``count`` people with a mobile and an email; person ``broken`` has an address that cannot be prepared."""
    with database.session() as session:
        organisation_id = session.scalar(select(Organisation.id).order_by(Organisation.id).limit(1))
        rows = [
            {
                "name": f"Myrkky Testi {n}",
                "organisation_id": organisation_id,
                "mobile": f"+35850{n:07d}",
                "email": BROKEN_EMAIL if n == broken else f"henkilo{n}@example.test",
                "language": ("fi", "sv", "en")[n % 3],
                "active": True,
            }
            for n in range(count)
        ]
        return list(session.scalars(insert(Person).returning(Person.id, sort_by_parameter_order=True), rows))


def _post(client: TestClient, key: str, people: list[int], **fields: object) -> int:
    body = {"title": "Myrsky", "message": "Kokoontuminen.", "targets": {"people": people}, "channels": ["sms", "email"]}
    response = client.post("/api/v1/alerts", json={**body, **fields}, headers=auth(key))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _deliveries(database: Database, alert_id: int) -> list[Delivery]:
    with database.session() as session:
        return list(session.scalars(select(Delivery).where(Delivery.alert_id == alert_id).order_by(Delivery.id)))


def _assert_fails_alone(client: TestClient, viewer_key: str, database: Database, alert_id: int) -> None:
    rows = _deliveries(database, alert_id)
    [bad] = [row for row in rows if row.address == BROKEN_EMAIL]
    assert bad.state is DeliveryState.failed and bad.attempts == 1
    assert bad.error_code == "unpreparable"
    assert bad.error_message and "could not be prepared" in bad.error_message and "ValueError" in bad.error_message
    assert Counter(row.state for row in rows if row is not bad) == {DeliveryState.sent: len(rows) - 1}
    listing = client.get(f"/api/v1/alerts/{alert_id}/recipients", headers=auth(viewer_key)).json()
    shown = [d for item in listing["items"] for d in item["deliveries"] if d["id"] == bad.id]
    assert shown == [{**shown[0], "state": "failed", "error_code": "unpreparable", "error_message": bad.error_message}]


def test_a_title_with_a_line_break_becomes_one_line_and_every_message_goes_out(
    client: TestClient, keys: dict[Role, str], database: Database, queue: InProcessQueue, smtp_settings: SmtpServer
) -> None:
    people = _people(database, 3)
    alert_id = _post(client, keys[Role.operator], people, title="Myrsky Kokkolassa\r\nkokoontuminen  heti")
    assert queue.join()
    with database.session() as session:
        assert session.get(Alert, alert_id).title == "Myrsky Kokkolassa kokoontuminen heti"  # type: ignore[union-attr]
    assert Counter(row.state for row in _deliveries(database, alert_id)) == {DeliveryState.sent: 6}
    assert (
        sorted(str(message["Subject"]) for message in smtp_settings.messages)
        == ["Myrsky Kokkolassa kokoontuminen heti"] * 3
    )


@contextmanager
def template_changed(name: str, source: str) -> Iterator[None]:
    """A message template as an administrator might have edited it (``config/templates/<name>``)."""
    env = environment()
    original = env.loader
    env.loader = ChoiceLoader([DictLoader({name: source}), original])  # type: ignore[list-item]
    env.cache.clear()  # type: ignore[union-attr]
    try:
        yield
    finally:
        env.loader = original
        env.cache.clear()  # type: ignore[union-attr]


def test_an_alert_its_templates_cannot_render_is_refused_at_creation_and_writes_nothing(
    client: TestClient, keys: dict[Role, str], database: Database, queue: InProcessQueue
) -> None:
    people = _people(database, 3)
    body = {"title": TITLE, "message": MESSAGE, "targets": {"people": people}, "channels": ["sms"]}
    with template_changed("sv/email_subject.j2", "{{ titel }}"):  # a mistake in a Swedish email's subject
        response = client.post("/api/v1/alerts", json=body, headers=auth(keys[Role.operator]))
    assert response.status_code == 422, response.text
    assert "cannot be rendered" in response.json()["detail"] and "'sv'" in response.json()["detail"]
    with database.session() as session:
        assert session.scalar(select(func.count(Alert.id))) == 0
        assert session.scalar(select(func.count(Delivery.id))) == 0


def test_a_template_broken_after_creation_fails_those_deliveries_alone(
    client: TestClient, keys: dict[Role, str], database: Database, queue: InProcessQueue
) -> None:
    """Swedish SMS cannot be rendered any more when the job runs: those fail, with the reason; the rest go out."""
    people = _people(database, 6)  # languages fi, sv, en, fi, sv, en: each reads their own language
    queue.close()  # nothing is sent until the template has changed
    alert_id = _post(client, keys[Role.operator], people, channels=["sms"], title=TITLE, message=MESSAGE)
    with template_changed("sv/sms.j2", "{{ titel }}"):
        running = InProcessQueue(workers=2)
        set_queue(running)
        enqueue_deliveries([row.id for row in _deliveries(database, alert_id)])
        assert running.join()
    rows = _deliveries(database, alert_id)
    failed = [row for row in rows if row.state is DeliveryState.failed]
    assert len(failed) == 2 and {row.error_code for row in failed} == {"unpreparable"}
    assert all("titel" in (row.error_message or "") for row in failed)
    assert Counter(row.state for row in rows) == {DeliveryState.sent: 4, DeliveryState.failed: 2}


def test_a_delivery_that_cannot_be_prepared_fails_alone_and_the_batch_goes_out(
    client: TestClient, keys: dict[Role, str], database: Database, queue: InProcessQueue, sweep: Callable[[], None]
) -> None:
    people = _people(database, 12, broken=5)
    alert_id = _post(client, keys[Role.operator], people)
    assert wait_until(lambda: settled(database, alert_id))
    _assert_fails_alone(client, keys[Role.viewer], database, alert_id)
    # never a loop: sweeping again finds nothing to send and the failed delivery is not tried again
    before = [(row.id, row.state, row.attempts) for row in _deliveries(database, alert_id)]
    for _ in range(3):
        sweep()
        assert queue.join()
    assert [(row.id, row.state, row.attempts) for row in _deliveries(database, alert_id)] == before


@contextmanager
def recipients_table_broken(database: Database) -> Iterator[None]:
    """The recipients' language column renamed away: every send job fails after it has claimed its deliveries."""
    with database.engine.begin() as connection:
        connection.execute(text("ALTER TABLE alert_recipients RENAME COLUMN language TO language_gone"))
    try:
        yield
    finally:
        database.engine.dispose()
        with database.engine.begin() as connection:
            connection.execute(text("ALTER TABLE alert_recipients RENAME COLUMN language_gone TO language"))


def test_a_job_that_keeps_failing_backs_off_and_gives_up_with_its_reason(
    database: Database, queue: InProcessQueue, monkeypatch: pytest.MonkeyPatch, sweep: Callable[[], None]
) -> None:
    monkeypatch.setenv("ALUETURVA_DELIVERY_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("ALUETURVA_DELIVERY_RETRY_BASE_SECONDS", "0.2")
    monkeypatch.setenv("ALUETURVA_DELIVERY_REQUEUE_AFTER_SECONDS", "0.1")
    get_settings.cache_clear()
    request = AlertCreate.model_validate(
        {"title": "T", "message": "M", "targets": {"people": _people(database, 4)}, "channels": ["sms"]}
    )
    alert_id = flows.create_alert(request, actor="test").alert_id
    assert queue.join()
    with recipients_table_broken(database):
        with database.session() as session:  # every delivery due again, as after a lost job
            session.execute(
                update(Delivery)
                .where(Delivery.alert_id == alert_id)
                .values(state=DeliveryState.queued, attempts=0, provider_id=None, sent_at=None)
            )
        enqueue_deliveries([row.id for row in _deliveries(database, alert_id)])

        def given_up() -> bool:
            sweep()
            return all(row.state is DeliveryState.failed for row in _deliveries(database, alert_id))

        assert wait_until(given_up, timeout=30, interval=0.1)
        for _ in range(3):  # never a loop: nothing is tried again once it has given up
            sweep()
            assert queue.join()
    rows = _deliveries(database, alert_id)
    assert [row.attempts for row in rows] == [3] * 4, "each run of the failing job used one attempt, no more"
    for row in rows:
        assert row.error_code == "job_failed"
        assert row.error_message and row.error_message.startswith("gave up after 3 attempts")
        assert "the send job failed" in row.error_message


@needs_postgresql
@pytest.mark.slow
def test_with_rq_workers_a_delivery_that_cannot_be_prepared_fails_alone(
    database: Database,
    twilio_settings: FakeTwilio,
    smtp_settings: SmtpServer,
    rq_client: TestClient,
    rq_workers: WorkerPool,
    scheduler_process: Callable[..., SchedulerProcess],
    keys: dict[Role, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALUETURVA_SEND_BATCH_SIZE", "10")
    get_settings.cache_clear()
    people = _people(database, 40, broken=31)
    rq_workers(2)
    scheduler_process(extra_env={"ALUETURVA_ALERT_SWEEP_INTERVAL_SECONDS": "0.5"})
    alert_id = _post(rq_client, keys[Role.operator], people)
    wait_settled(database, alert_id, rq_workers)
    _assert_fails_alone(rq_client, keys[Role.viewer], database, alert_id)
    assert len(twilio_settings.messages) == 40 and len(smtp_settings.messages) == 39
    assert {row.channel for row in _deliveries(database, alert_id)} == {Channel.sms, Channel.email}
