"""Escalation (re-send, other channel, deputies, telling the operator, closing) and cancellation."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from alerting import flows
from alerting.models import Alert, AlertEvent, Delivery, EscalationTimer, Recipient
from alerting.schemas import AlertCreate
from alerting.sweeper import sweep
from alueturva.audit.models import AuditEvent
from alueturva.auth.models import Role
from alueturva.db import Database
from alueturva.queue import InProcessQueue
from loopback.smtp_server import SmtpServer
from loopback.twilio_server import FakeTwilio
from tests.conftest import auth
from tests.support.roster import Roster, make_roster, settled, wait_until

POLICY = {
    "resend_after_minutes": 10,
    "resend_times": 2,
    "other_channel": True,
    "deputy_after_minutes": 15,
    "notify_operator_after_minutes": 20,
    "close_after_minutes": 60,
}


@pytest.fixture
def roster(database: Database) -> Roster:
    return make_roster(database)


def _send(database: Database, roster: Roster, people: list[str], **fields: object) -> tuple[int, datetime]:
    body: dict[str, object] = {
        "title": "Myrsky",
        "message": "Kokoonnu.",
        "targets": {"people": [roster.people[key] for key in people]},
        "channels": ["sms"],
        "escalation": POLICY,
    }
    body.update(fields)
    alert_id = flows.create_alert(AlertCreate.model_validate(body), actor="operator:test").alert_id
    assert wait_until(lambda: settled(database, alert_id))
    with database.session() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        return alert_id, alert.created_at


def _deliveries(database: Database, alert_id: int) -> list[tuple[int, str, str, int, str]]:
    """(person id, channel, kind, round, state) of every delivery."""
    with database.session() as session:
        rows = session.execute(
            select(Recipient.person_id, Delivery.channel, Delivery.kind, Delivery.round, Delivery.state)
            .join(Recipient, Recipient.id == Delivery.recipient_id)
            .where(Delivery.alert_id == alert_id)
            .order_by(Delivery.id)
        ).all()
    return [(p, c.value, k.value, r, s.value) for p, c, k, r, s in rows]


def _ack(database: Database, alert_id: int, person_id: int) -> None:
    with database.session() as session:
        recipient_id = session.scalars(
            select(Recipient.id).where(Recipient.alert_id == alert_id, Recipient.person_id == person_id)
        ).one()
    flows.acknowledge_on_behalf(alert_id=alert_id, recipient_id=recipient_id, actor="test", response=None, note=None)


def _sweep_at(database: Database, alert_id: int, when: datetime) -> None:
    sweep(now=when)
    assert wait_until(lambda: settled(database, alert_id))


def test_silent_recipients_are_reminded_on_both_channels_until_they_acknowledge(
    roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    alert_id, created = _send(database, roster, ["aino", "bertil"])
    aino, bertil = roster.people["aino"], roster.people["bertil"]
    _sweep_at(database, alert_id, created + timedelta(minutes=9))
    assert all(kind == "alert" for _, _, kind, _, _ in _deliveries(database, alert_id))
    _sweep_at(database, alert_id, created + timedelta(minutes=11))
    first = {(p, c) for p, c, kind, r, _ in _deliveries(database, alert_id) if kind == "reminder" and r == 1}
    assert first == {(aino, "sms"), (aino, "email"), (bertil, "sms"), (bertil, "email")}
    _ack(database, alert_id, aino)
    _sweep_at(database, alert_id, created + timedelta(minutes=11))  # a step runs once only
    _sweep_at(database, alert_id, created + timedelta(minutes=21))
    second = {(p, c) for p, c, kind, r, _ in _deliveries(database, alert_id) if kind == "reminder" and r == 2}
    assert second == {(bertil, "sms"), (bertil, "email")}
    assert len([d for d in _deliveries(database, alert_id) if d[2] == "reminder"]) == 6
    assert {state for *_, state in _deliveries(database, alert_id)} == {"sent"}
    with database.session() as session:
        events = session.scalars(
            select(AlertEvent)
            .where(AlertEvent.alert_id == alert_id, AlertEvent.kind == "reminders_sent")
            .order_by(AlertEvent.id)
        ).all()
    assert [event.details for event in events] == [
        {"round": 1, "recipients": 2, "messages": 4},
        {"round": 2, "recipients": 1, "messages": 2},
    ]


def test_deputies_of_silent_people_are_alerted(roster: Roster, database: Database, queue: InProcessQueue) -> None:
    alert_id, created = _send(database, roster, ["aino", "bertil"])
    _sweep_at(database, alert_id, created + timedelta(minutes=16))
    with database.session() as session:
        recipients = {r.person_id: r for r in session.scalars(select(Recipient).where(Recipient.alert_id == alert_id))}
    deputy = recipients[roster.people["deputy"]]
    assert deputy.deputy_for_id == recipients[roster.people["aino"]].id
    assert (roster.people["deputy"], "sms", "alert", 0, "sent") in _deliveries(database, alert_id)
    with database.session() as session:
        kinds = [e.kind for e in session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert_id))]
    assert "deputies_alerted" in kinds and "reminders_sent" in kinds


def test_no_deputy_is_alerted_for_someone_who_acknowledged(
    roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    alert_id, created = _send(database, roster, ["aino"], escalation={**POLICY, "resend_times": 0})
    _ack(database, alert_id, roster.people["aino"])
    _sweep_at(database, alert_id, created + timedelta(minutes=59))
    assert {p for p, *_ in _deliveries(database, alert_id)} == {roster.people["aino"]}


def test_the_operator_is_told_who_is_still_silent(
    smtp_settings: SmtpServer, roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    alert_id, created = _send(
        database, roster, ["aino", "bertil"], notify_email="paivystaja@example.fi", exercise=True,
        escalation={**POLICY, "resend_times": 0, "deputy_after_minutes": None},
    )  # fmt: skip
    _ack(database, alert_id, roster.people["bertil"])
    _sweep_at(database, alert_id, created + timedelta(minutes=21))
    assert queue.join()
    with database.session() as session:
        event = session.scalars(
            select(AlertEvent).where(AlertEvent.alert_id == alert_id, AlertEvent.kind == "silent_recipients")
        ).one()
    assert event.details["count"] == 1
    notices = [m for m in smtp_settings.messages if str(m["To"]) == "paivystaja@example.fi"]
    assert len(notices) == 1
    body = notices[0].get_content().replace("\r\n", "\n")
    assert "Aino Aaltonen" in body and "Bertil" not in body
    assert "EXERCISE" in str(notices[0]["Subject"])
    # a part in each language, each in its own words
    finnish, swedish, english = body.split("\n\n---\n\n")
    assert f"Hälytys {alert_id}: Myrsky" in finnish and "Eivät ole vielä kuitanneet (1):" in finnish
    assert "Har inte kvitterat ännu (1):" in swedish and "mottagare" in swedish
    assert "Not acknowledged yet (1):" in english
    assert "(recipient" not in finnish + swedish and "Alert " not in finnish + swedish


def test_the_alert_closes_at_its_time_out_and_escalation_stops(
    roster: Roster, database: Database, queue: InProcessQueue, client: TestClient, keys: dict[Role, str]
) -> None:
    alert_id, created = _send(database, roster, ["aino"], escalation={"close_after_minutes": 5})
    _sweep_at(database, alert_id, created + timedelta(minutes=6))
    status = client.get(f"/api/v1/alerts/{alert_id}", headers=auth(keys[Role.viewer])).json()
    assert status["status"] == "closed" and status["closed_at"]
    _sweep_at(database, alert_id, created + timedelta(hours=3))
    assert [kind for _, _, kind, _, _ in _deliveries(database, alert_id)] == ["alert"]
    with database.session() as session:
        timers = session.scalars(select(EscalationTimer).where(EscalationTimer.alert_id == alert_id)).all()
    # steps that fall after closing are not even scheduled
    assert [t.kind.value for t in timers] == ["close"] and timers[0].done_at is not None


def test_cancelling_stops_escalation_and_tells_those_already_alerted(
    twilio_settings: FakeTwilio, roster: Roster, database: Database, queue: InProcessQueue, client: TestClient,
    keys: dict[Role, str],
) -> None:  # fmt: skip
    alert_id, created = _send(database, roster, ["aino", "bertil", "cecilia"], channels=["sms", "email"])
    url = f"/api/v1/alerts/{alert_id}/cancel"
    assert client.post(url, headers=auth(keys[Role.viewer])).status_code == 403
    response = client.post(url, headers=auth(keys[Role.operator]))
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert wait_until(lambda: settled(database, alert_id))
    notices = {(p, c) for p, c, kind, _, state in _deliveries(database, alert_id) if kind == "cancel"}
    aino, bertil, cecilia = (roster.people[k] for k in ("aino", "bertil", "cecilia"))
    assert notices == {(aino, "sms"), (aino, "email"), (bertil, "sms"), (bertil, "email"), (cecilia, "email")}
    cancel_sms = [m["body"] for m in twilio_settings.messages if m["body"].startswith(("PERUTTU", "ÅTERKALLAT"))]
    assert len(cancel_sms) == 2
    _sweep_at(database, alert_id, created + timedelta(minutes=30))
    assert not [d for d in _deliveries(database, alert_id) if d[2] == "reminder"]
    assert client.post(url, headers=auth(keys[Role.operator])).status_code == 200  # again: harmless
    assert len([d for d in _deliveries(database, alert_id) if d[2] == "cancel"]) == 5
    with database.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.cancel")).all()
    assert len(events) == 1 and events[0].actor.startswith("apikey:")


def test_unsent_messages_of_a_cancelled_alert_are_never_sent(roster: Roster, database: Database) -> None:
    from alueturva.queue import set_queue

    set_queue(InProcessQueue(workers=0))  # the alert's jobs are still waiting when it is cancelled
    alert_id = flows.create_alert(
        AlertCreate(title="T", message="M", targets={"groups": [roster.group_id]}), actor="test"
    ).alert_id
    assert flows.cancel_alert(alert_id=alert_id, actor="test") == 0  # nobody was reached: no notices
    working = InProcessQueue(workers=2)
    set_queue(working)
    sweep(now=datetime.now().astimezone() + timedelta(minutes=5))
    working.join()
    assert {state for *_, state in _deliveries(database, alert_id)} == {"cancelled"}
    set_queue(None)


def test_a_closed_alert_cannot_be_cancelled(
    roster: Roster, database: Database, queue: InProcessQueue, client: TestClient, keys: dict[Role, str]
) -> None:
    alert_id, created = _send(database, roster, ["aino"], escalation={"close_after_minutes": 5})
    _sweep_at(database, alert_id, created + timedelta(minutes=6))
    response = client.post(f"/api/v1/alerts/{alert_id}/cancel", headers=auth(keys[Role.operator]))
    assert response.status_code == 409 and "closed" in response.json()["detail"]
    assert client.post("/api/v1/alerts/999999/cancel", headers=auth(keys[Role.operator])).status_code == 404


def test_escalation_overrides_null_switches_steps_off_and_keeps_other_defaults(
    roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    escalation = {"deputy_after_minutes": None, "other_channel": None, "resend_times": None, "close_after_minutes": 30}
    alert_id, _ = _send(database, roster, ["aino"], escalation=escalation)
    with database.session() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        kinds = sorted(
            t.kind.value for t in session.scalars(select(EscalationTimer).where(EscalationTimer.alert_id == alert_id))
        )
    assert alert.escalation["deputy_after_minutes"] is None and alert.escalation["other_channel"] is True
    assert alert.escalation["resend_times"] == 2 and alert.escalation["close_after_minutes"] == 30
    assert kinds == ["close", "notify_operator", "resend", "resend"]
