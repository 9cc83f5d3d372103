"""Creating and dispatching alerts in the embedded default (in-process queue, console channels)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from alerting import flows
from alerting.claims import claim
from alerting.dispatch import send_batch
from alerting.models import Alert, Delivery, DeliveryState, Recipient
from alerting.schemas import AlertCreate
from alerting.sweeper import sweep
from alueturva.audit.models import AuditEvent
from alueturva.auth.models import Role
from alueturva.db import Database, utcnow
from alueturva.queue import InProcessQueue, set_queue
from tests.conftest import auth
from tests.support.roster import Roster, delivery_states, make_roster


@pytest.fixture
def roster(database: Database) -> Roster:
    return make_roster(database)


def _count(database: Database, model: type) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _post(client: TestClient, keys: dict[Role, str], body: dict, role: Role = Role.operator):
    return client.post("/api/v1/alerts", json=body, headers=auth(keys[role]))


def test_alert_reaches_every_person_once_on_each_channel(
    client: TestClient, keys: dict[Role, str], roster: Roster, queue: InProcessQueue, database: Database
) -> None:
    body = {
        "title": "Vesijohtovaurio",
        "message": "Kokoontuminen klo 14",
        # the same people named three ways: each is still one recipient
        "targets": {"groups": [roster.group_id], "people": [roster.people["aino"]], "areas": ["Kokkola"]},
        "channels": ["sms", "email"],
    }
    response = _post(client, keys, body)
    assert response.status_code == 201, response.text
    alert = response.json()
    assert alert["counts"]["targeted"] == 4
    assert queue.join()
    status = client.get(f"/api/v1/alerts/{alert['id']}", headers=auth(keys[Role.viewer])).json()
    # aino, bertil, deputy: sms+email; cecilia: email only
    assert status["deliveries"] == {"sent": 7}
    # No receipt yet for the SMS (one comes a moment later); Cecilia's email will never have one
    counts = {"targeted": 4, "sent": 4, "delivered": 0, "no_receipt": 1, "failed": 0, "acknowledged": 0}
    assert status["counts"] == counts
    assert {row["organisation"] for row in status["by_organisation"]} == {"Kannus", "Kokkola", "Kaustinen"}
    recipients = client.get(f"/api/v1/alerts/{alert['id']}/recipients", headers=auth(keys[Role.viewer])).json()
    assert recipients["total"] == 4
    by_person = {item["person_id"]: item for item in recipients["items"]}
    assert {d["channel"] for d in by_person[roster.people["cecilia"]]["deliveries"]} == {"email"}
    assert by_person[roster.people["bertil"]]["language"] == "sv"
    assert all(d["sent_at"] and d["attempts"] == 1 for item in recipients["items"] for d in item["deliveries"])
    with database.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.send")).one()
        assert event.actor.startswith("apikey:") or event.actor
        assert event.entity_id == str(alert["id"])
    listed = client.get("/api/v1/alerts", headers=auth(keys[Role.viewer])).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == alert["id"]


def test_idempotency_key_returns_the_same_alert_and_sends_nothing_more(
    client: TestClient, keys: dict[Role, str], roster: Roster, queue: InProcessQueue, database: Database
) -> None:
    body = {"title": "T", "message": "M", "targets": {"groups": [roster.group_id]}, "idempotency_key": "drill-42"}
    first = _post(client, keys, body)
    assert first.status_code == 201
    queue.join()
    second = _post(client, keys, {**body, "message": "changed"})
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    queue.join()
    assert _count(database, Alert) == 1
    assert _count(database, Delivery) == 7


def test_racing_requests_with_one_idempotency_key_make_one_alert(
    roster: Roster, queue: InProcessQueue, database: Database
) -> None:
    request = AlertCreate(title="T", message="M", targets={"groups": [roster.group_id]}, idempotency_key="race")
    results: list[flows.CreatedAlert] = []
    barrier = threading.Barrier(4)

    def create() -> None:
        barrier.wait()
        results.append(flows.create_alert(request, actor="test"))

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({result.alert_id for result in results}) == 1
    assert sum(result.created for result in results) == 1
    queue.join()
    assert _count(database, Delivery) == 7


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"title": "T", "message": "M", "targets": {}}, "at least one target"),
        ({"title": "T", "message": "M", "targets": {"groups": [999999]}}, "unknown groups: 999999"),
        (
            {"title": "T", "message": "M", "targets": {"groups": ["nope"], "organisations": ["Oulu"]}},
            "unknown groups: 'nope'; unknown organisations: 'Oulu'",
        ),
        ({"title": {"sv": "T"}, "message": "M", "targets": {"areas": ["Kokkola"]}}, "fi"),
        (
            {"title": {"fi": "T", "sv": "T"}, "message": "M", "targets": {"areas": ["Kokkola"]}},
            "the title is in fi, sv but the message in fi",
        ),
        (
            {
                "title": {"fi": "T", "sv": "T"},
                "message": {"fi": "M", "sv": "M"},
                "targets": {"areas": ["Kokkola"]},
                "response_options": [{"fi": "A", "sv": "A"}, "B"],
            },
            "response option 2 in fi",
        ),
        ({"title": "T", "message": "M", "targets": {"roles": ["no_such_role"]}}, "unknown role keys"),
        ({"title": "T", "message": "M", "targets": {"areas": ["Helsinki"]}}, "Kokkola"),
        ({"title": "", "message": "M", "targets": {"areas": ["Kokkola"]}}, "title"),
        ({"title": "T", "message": "M", "targets": {"areas": ["Kokkola"]}, "extra": 1}, "extra"),
        ({"title": "T", "message": "M", "targets": {"areas": ["Kokkola"]}, "channels": ["fax"]}, "channels"),
        ({"title": "T", "message": "M", "targets": {"areas": ["Kokkola"]}, "response_options": ["only"]}, "two"),
        ({"title": "T", "message": "M", "targets": {"organisations": [1]}, "notify_email": "nope"}, "email"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    client: TestClient, keys: dict[Role, str], roster: Roster, database: Database, body: dict, detail: str
) -> None:
    response = _post(client, keys, body)
    assert response.status_code == 422, response.text
    assert detail in str(response.json()["detail"])
    assert _count(database, Alert) == 0
    assert _count(database, Delivery) == 0
    with database.session() as session:
        assert session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.send")).first() is None


def test_groups_and_organisations_are_named_by_key_or_name_as_on_the_command_line(
    client: TestClient, keys: dict[Role, str], roster: Roster, queue: InProcessQueue, database: Database
) -> None:
    body = {"title": "T", "message": "M", "targets": {"groups": ["test_group"], "organisations": ["Karleby stad"]}}
    response = _post(client, keys, body)
    assert response.status_code == 201, response.text
    assert response.json()["counts"]["targeted"] == 4
    with database.session() as session:
        alert = session.scalars(select(Alert)).one()
        assert alert.targets["groups"] == [roster.group_id]
        assert alert.targets["organisations"] == [roster.organisations["kokkola"]]


def test_an_alert_keeps_its_texts_per_language_and_shows_them(
    client: TestClient, keys: dict[Role, str], roster: Roster, queue: InProcessQueue
) -> None:
    body = {
        "title": {"fi": "Harjoitus", "sv": "Övning"},
        "message": {"fi": "Kokoontuminen.", "sv": "Samling."},
        "response_options": [{"fi": "Tulen", "sv": "Jag kommer"}, {"fi": "En pääse", "sv": "Jag kan inte"}],
        "targets": {"groups": [roster.group_id]},
    }
    alert = _post(client, keys, body).json()
    assert alert["title"] == "Harjoitus" and alert["message"] == "Kokoontuminen."
    assert alert["texts"] == {
        "fi": {"title": "Harjoitus", "message": "Kokoontuminen.", "response_options": ["Tulen", "En pääse"]},
        "sv": {"title": "Övning", "message": "Samling.", "response_options": ["Jag kommer", "Jag kan inte"]},
    }
    assert alert["answers"] == [
        {"option": 1, "text": "Tulen", "count": 0},
        {"option": 2, "text": "En pääse", "count": 0},
    ]


def test_cancelling_keeps_the_reason(
    client: TestClient, keys: dict[Role, str], roster: Roster, queue: InProcessQueue, database: Database
) -> None:
    alert_id = _post(client, keys, {"title": "T", "message": "M", "targets": {"groups": [roster.group_id]}}).json()[
        "id"
    ]
    queue.join()
    response = client.post(
        f"/api/v1/alerts/{alert_id}/cancel", json={"reason": "Väärä ryhmä"}, headers=auth(keys[Role.operator])
    )
    assert response.status_code == 200 and response.json()["cancel_reason"] == "Väärä ryhmä"
    with database.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.cancel")).one()
        assert event.details["reason"] == "Väärä ryhmä"


def test_targets_that_resolve_to_nobody_are_refused(
    client: TestClient, keys: dict[Role, str], roster: Roster, database: Database
) -> None:
    body = {"title": "T", "message": "M", "targets": {"organisations": [roster.organisations["halsua"]]}}
    response = _post(client, keys, body)
    assert response.status_code == 422
    assert "resolve to nobody" in response.json()["detail"]
    assert _count(database, Alert) == 0


def test_a_message_over_the_sms_segment_limit_is_refused_before_anything_is_sent(
    client: TestClient, keys: dict[Role, str], roster: Roster, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALUETURVA_SMS_MAX_SEGMENTS", "2")
    from alueturva.settings import get_settings

    get_settings.cache_clear()
    # an emoji forces UCS-2: 70 units per segment, so ~150 characters need three segments
    body = {"title": "Tulva 🌊", "message": "x" * 150, "targets": {"groups": [roster.group_id]}}
    response = _post(client, keys, body)
    assert response.status_code == 422
    assert "segments" in response.json()["detail"] and "UCS-2" in response.json()["detail"]
    assert _count(database, Alert) == 0
    # each version is counted on its own, and the refusal names the one that is too long
    body = {
        "title": {"fi": "Tulva", "sv": "Översvämning 🌊"},
        "message": {"fi": "Kokoontuminen klo 14.", "sv": "y" * 150},
        "targets": {"groups": [roster.group_id]},
    }
    detail = _post(client, keys, body).json()["detail"]
    assert detail.startswith("the Swedish alert SMS (sv) would take 3 segments"), detail
    assert _count(database, Alert) == 0
    # the same text by email only is fine: segments only limit SMS
    response = _post(client, keys, {**body, "channels": ["email"]})
    assert response.status_code == 201


def test_the_finnish_and_swedish_version_is_counted_for_those_who_get_it(
    client: TestClient, keys: dict[Role, str], roster: Roster, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alueturva.settings import get_settings
    from contacts.models import Person

    monkeypatch.setenv("ALUETURVA_SMS_MAX_SEGMENTS", "1")
    get_settings.cache_clear()
    body = {
        "title": {"fi": "Tulva", "sv": "Flod"},
        "message": {"fi": "x" * 60, "sv": "y" * 60},  # each fits one segment, both together do not
        "targets": {"groups": [roster.group_id]},
    }
    assert _post(client, keys, body).status_code == 201  # nobody in the group gets both
    with database.session() as session:
        session.add(
            Person(name="Eve", organisation_id=roster.organisations["kokkola"], mobile="+358401110005", language="en")
        )
    detail = _post(client, keys, {**body, "targets": {"areas": ["Kokkola"]}}).json()["detail"]
    assert detail.startswith("the Finnish and Swedish together") and "(fi+sv)" in detail, detail


def test_only_operators_send_and_viewers_read(client: TestClient, keys: dict[Role, str], roster: Roster) -> None:
    body = {"title": "T", "message": "M", "targets": {"groups": [roster.group_id]}}
    assert client.post("/api/v1/alerts", json=body).status_code == 401
    assert _post(client, keys, body, role=Role.viewer).status_code == 403
    assert _post(client, keys, body, role=Role.reporter).status_code == 403
    assert client.get("/api/v1/alerts/1").status_code == 401
    assert client.get("/api/v1/alerts/424242", headers=auth(keys[Role.viewer])).status_code == 404


def test_a_delivery_is_claimed_by_one_worker_only(roster: Roster, database: Database) -> None:
    set_queue(InProcessQueue(workers=0))  # nobody runs the jobs: we play the workers
    created = flows.create_alert(
        AlertCreate(title="T", message="M", targets={"groups": [roster.group_id]}), actor="test"
    )
    with database.session() as session:
        ids = list(session.scalars(select(Delivery.id).where(Delivery.alert_id == created.alert_id)))
    now = utcnow()
    with database.session() as session:
        first = claim(session, delivery_ids=ids, now=now)
    with database.session() as session:
        second = claim(session, delivery_ids=ids, now=now)
    assert len(first) == len(ids) and second == []
    # once the lease has run out, the work can be taken over (a worker died)
    with database.session() as session:
        later = claim(session, delivery_ids=ids, now=now + timedelta(minutes=5))
    assert sorted(row.id for row in later) == sorted(ids)
    assert {row.attempts for row in later} == {2}
    set_queue(None)


def test_the_sweeper_finds_jobs_that_were_lost(
    roster: Roster, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost = InProcessQueue(workers=0)  # jobs enqueued here never run: a flushed Redis
    set_queue(lost)
    created = flows.create_alert(
        AlertCreate(title="T", message="M", targets={"groups": [roster.group_id]}), actor="test"
    )
    working = InProcessQueue(workers=2)
    set_queue(working)
    assert sweep()["requeued"] == 0  # too early: the jobs may still be on their way
    result = sweep(now=utcnow() + timedelta(minutes=1))
    assert result["requeued"] == created.deliveries
    assert working.join()
    with database.session() as session:
        states = set(session.scalars(select(Delivery.state).where(Delivery.alert_id == created.alert_id)))
    assert states == {DeliveryState.sent}
    set_queue(None)


def test_a_claim_that_expires_on_the_last_attempt_fails_clearly(
    roster: Roster, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALUETURVA_DELIVERY_MAX_ATTEMPTS", "1")
    from alueturva.settings import get_settings

    get_settings.cache_clear()
    set_queue(InProcessQueue(workers=0))
    created = flows.create_alert(
        AlertCreate(title="T", message="M", targets={"people": [roster.people["aino"]]}, channels=["sms"]),
        actor="test",
    )
    with database.session() as session:
        ids = list(session.scalars(select(Delivery.id).where(Delivery.alert_id == created.alert_id)))
        claim(session, delivery_ids=ids, now=utcnow())  # the worker dies holding the claim
    sweep(now=utcnow() + timedelta(minutes=5))
    assert send_batch(ids) == 0
    with database.session() as session:
        delivery = session.get(Delivery, ids[0])
        assert delivery is not None
        assert delivery.state is DeliveryState.failed and delivery.error_code == "worker_lost"
        assert session.scalar(select(func.count(Recipient.id))) == 1
    set_queue(None)


def test_logs_carry_ids_never_numbers_names_or_addresses(
    client: TestClient, keys: dict[Role, str], roster: Roster, queue: InProcessQueue, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from alueturva.logging import JsonFormatter

    caplog.set_level(logging.DEBUG)
    body = {"title": "T", "message": "M", "targets": {"groups": [roster.group_id]}, "exercise": True}
    assert _post(client, keys, body).status_code == 201
    assert queue.join()
    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert "sms sent (console)" in logged and "email sent (console)" in logged
    for secret in [*roster.mobiles.values(), "40 1110001", "Aino", "Bertil", "aino@example.fi", "test-secret-key"]:
        assert secret not in logged


def test_an_unreachable_queue_does_not_fail_the_request_and_the_sweeper_sends_later(
    client: TestClient, keys: dict[Role, str], roster: Roster, database: Database
) -> None:
    from alueturva.queue import RQQueue
    from loopback.ports import free_port

    set_queue(RQQueue(f"redis://127.0.0.1:{free_port()}/0", "nowhere"))  # nothing listens there
    body = {"title": "T", "message": "M", "targets": {"groups": [roster.group_id]}}
    response = _post(client, keys, body)
    assert response.status_code == 201, response.text
    alert_id = response.json()["id"]
    assert set(delivery_states(database, alert_id)) == {"queued"}
    working = InProcessQueue(workers=2)
    set_queue(working)
    sweep(now=utcnow() + timedelta(minutes=1))
    assert working.join()
    assert set(delivery_states(database, alert_id)) == {"sent"}
    set_queue(None)
