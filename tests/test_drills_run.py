"""Drills end to end against the real channels (loopback Twilio, aiosmtpd), with signed replies at chosen times:
a communication test, a management-group alerting test with its poll, an external-system test's reach question.
Each checks the drill's evaluated objectives against what the test did."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from alerting.models import Alert, AlertStatus, Delivery, EscalationTimer
from alueturva.auth.models import Role
from alueturva.db import Database
from alueturva.queue import InProcessQueue
from loopback.smtp_server import SmtpServer
from loopback.twilio_server import FakeTwilio
from tests.conftest import auth
from tests.support.drills import act, age_drill, objectives, plan, read, reply, short_code
from tests.support.roster import Roster, make_roster, settled, wait_until


@pytest.fixture
def roster(database: Database) -> Roster:
    """Aino (Kannus, fi), Bertil (Kokkola, sv), Cecilia (Kaustinen, en, email only), Daniel (Kannus, fi)."""
    return make_roster(database)


def _alert_id(drill: dict[str, object]) -> int:
    alerts = drill["alerts"]
    assert isinstance(alerts, list) and len(alerts) == 1, drill
    return int(alerts[0])


def test_a_communication_test_is_measured_against_its_objectives(
    twilio_settings: FakeTwilio, client: TestClient, keys: dict[Role, str], roster: Roster, database: Database,
    queue: InProcessQueue, sweep: object,
) -> None:  # fmt: skip
    drill = plan(
        client,
        keys,
        name="Viestiliikennekoe joulukuu",
        kind="communication_test",
        targets={"groups": [roster.group_id]},
        channels=["sms"],
        title={"fi": "Viestiliikennekoe", "sv": "Kommunikationstest"},
        message={"fi": "Kuittaa tämä viesti.", "sv": "Kvittera detta meddelande."},
        objectives=[
            {"kind": "ack_share_within", "percent": 50, "minutes": 10},
            {"kind": "every_organisation_within", "minutes": 30},
            {"kind": "every_area_within", "minutes": 30},
            {"kind": "max_unreachable", "count": 0},
            {"kind": "manual", "text": "Viesti ymmärrettiin oikein"},
        ],
    )
    assert drill["state"] == "planned" and drill["alerts"] == []
    drill = act(client, keys, f"{drill['id']}/start")
    alert_id = _alert_id(drill)
    assert drill["state"] == "running" and drill["ends_at"] is not None
    assert wait_until(lambda: settled(database, alert_id))
    bodies = {message["to"]: message["body"] for message in twilio_settings.messages}
    assert set(bodies) == {roster.mobiles[k] for k in ("aino", "bertil", "deputy")}  # Cecilia has no mobile
    assert all(body.startswith("HARJOITUS") for to, body in bodies.items() if to != roster.mobiles["bertil"])
    assert "ÖVNING" in bodies[roster.mobiles["bertil"]]

    age_drill(database, drill["id"], minutes=2)
    reply(twilio_settings, client, roster.mobiles["aino"], "ok")  # 2 minutes after the alert
    age_drill(database, drill["id"], minutes=13)
    reply(twilio_settings, client, roster.mobiles["bertil"], f"ok {short_code(database, alert_id)}")  # 15 minutes

    running = read(client, keys, drill["id"])
    assert objectives(running) == [
        ("ack_share_within", False, {"targeted": 4, "acknowledged_within": 1, "percent": 25.0}),  # window over
        (
            "every_organisation_within",
            None,
            {
                "targeted": 3,
                "reached": 2,
                "missing": ["Kaustinen"],
                "missing_names": {"fi": ["Kaustinen"], "sv": ["Kaustby"], "en": ["Kaustinen"]},
            },
        ),
        (
            "every_area_within",
            None,
            {
                "targeted": 3,
                "reached": 2,
                "missing": ["Perhonjokilaakso"],
                "missing_names": {"fi": ["Perhonjokilaakso"], "sv": ["Perho ådal"], "en": ["Perhonjoki valley"]},
            },
        ),
        ("max_unreachable", None, {"unreachable": 1}),  # Cecilia: judged when the drill ends
        ("manual", None, None),
    ]
    assert [o["final"] for o in running["objectives"]] == [True, False, False, False, False]

    rated = act(client, keys, f"{drill['id']}/objectives/5/rating", rating="S", note="yksi kysyi tarkennusta")
    assert rated["objectives"][4]["met"] is True and rated["objectives"][4]["rating"] == "S"
    ended = act(client, keys, f"{drill['id']}/end")
    assert ended["state"] == "ended" and ended["ended_by"].startswith("apikey:")
    assert [(kind, met) for kind, met, _ in objectives(ended)] == [
        ("ack_share_within", False),
        ("every_organisation_within", False),
        ("every_area_within", False),
        ("max_unreachable", False),
        ("manual", True),
    ]
    with database.session() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.status is AlertStatus.closed
        pending = select(func.count()).where(EscalationTimer.alert_id == alert_id, EscalationTimer.done_at.is_(None))
        assert session.scalar(pending) == 0
        messages_before = session.scalar(select(func.count()).where(Delivery.alert_id == alert_id))
    age_drill(database, drill["id"], minutes=120)  # far past every escalation step: none runs after the end
    sweep()  # type: ignore[operator]
    queue.join()
    with database.session() as session:
        assert session.scalar(select(func.count()).where(Delivery.alert_id == alert_id)) == messages_before
    assert client.post(f"/api/v1/drills/{drill['id']}/start", headers=auth(keys[Role.operator])).status_code == 409


def test_a_management_group_alerting_test_polls_who_is_coming(
    twilio_settings: FakeTwilio, smtp_settings: SmtpServer, client: TestClient, keys: dict[Role, str],
    roster: Roster, database: Database,
) -> None:  # fmt: skip
    drill = plan(
        client,
        keys,
        name="Johtoryhmien hälytyskoe",
        kind="management_group_test",
        targets={"groups": [roster.group_id]},
        title="Johtoryhmän hälytyskoe",
        message="Kokoontuminen kaupungintalolla klo 10.",
        objectives=[{"kind": "ack_share_within", "percent": 75, "minutes": 5}],
    )
    assert drill["response_options"] == [
        {"fi": "Tulen paikalle", "sv": "Jag kommer", "en": "I am coming"},
        {"fi": "En pääse", "sv": "Jag kan inte komma", "en": "I cannot come"},
    ]  # the alert, written in Finnish only, uses the Finnish ones
    alert_id = _alert_id(act(client, keys, f"{drill['id']}/start"))
    assert wait_until(lambda: settled(database, alert_id))
    code = short_code(database, alert_id)
    assert all("1 = Tulen paikalle" in m["body"] or "1=Tulen paikalle" in m["body"] for m in twilio_settings.messages)
    assert all(
        str(m["Subject"]).startswith(("HARJOITUS – ", "ÖVNING – ", "EXERCISE – ")) for m in smtp_settings.messages
    )

    assert "Tulen paikalle" in reply(twilio_settings, client, roster.mobiles["aino"], f"1 {code}")
    assert "En pääse" in reply(twilio_settings, client, roster.mobiles["bertil"], f"2 {code}")
    age_drill(database, drill["id"], minutes=6)

    answered = client.get(f"/api/v1/alerts/{alert_id}/recipients", headers=auth(keys[Role.viewer])).json()["items"]
    assert sorted((row["person_id"], row["response"]) for row in answered if row["response"]) == sorted(
        [(roster.people["aino"], 1), (roster.people["bertil"], 2)]
    )
    assert objectives(read(client, keys, drill["id"])) == [
        ("ack_share_within", False, {"targeted": 4, "acknowledged_within": 2, "percent": 50.0})
    ]


def test_an_external_system_test_asks_whether_its_message_arrived(
    twilio_settings: FakeTwilio, client: TestClient, keys: dict[Role, str], roster: Roster, database: Database
) -> None:
    drill = plan(
        client,
        keys,
        name="Erica-testi",
        kind="external_system_test",
        targets={"groups": [roster.group_id]},
        channels=["sms"],
        objectives=[{"kind": "ack_share_within", "percent": 50, "minutes": 60}],
    )
    assert drill["external_system"] == "Erica" and len(drill["response_options"]) == 2
    started = act(client, keys, f"{drill['id']}/start", external_sent_at="2026-12-01T07:00:00Z")
    assert started["external_sent_at"] == "2026-12-01T07:00:00Z" and started["sent"][0]["purpose"] == "reach_question"
    alert_id = _alert_id(started)
    assert wait_until(lambda: settled(database, alert_id))
    bodies = {message["to"]: message["body"] for message in twilio_settings.messages}
    assert "Saitko Erica-testiviestin?" in bodies[roster.mobiles["aino"]]
    assert "1.12.2026 klo 9.00" in bodies[roster.mobiles["aino"]]  # Finnish time of the Erica message
    assert "Fick du testmeddelandet från Erica?" in bodies[roster.mobiles["bertil"]]
    assert "1.12.2026 kl. 9.00" in bodies[roster.mobiles["bertil"]]

    reply(twilio_settings, client, roster.mobiles["aino"], "1")  # got it
    reply(twilio_settings, client, roster.mobiles["bertil"], "2")  # did not
    measured = read(client, keys, drill["id"])
    assert objectives(measured) == [
        ("ack_share_within", True, {"targeted": 4, "acknowledged_within": 2, "percent": 50.0})
    ]  # met as soon as reached; the answers themselves say who got the Erica message
    answers = client.get(f"/api/v1/alerts/{alert_id}/recipients", headers=auth(keys[Role.viewer])).json()["items"]
    assert {row["person_id"]: row["response"] for row in answers if row["response"]} == {
        roster.people["aino"]: 1,
        roster.people["bertil"]: 2,
    }
