"""An exercise in phases: its alerts, decisions, their reactions, observations and snapshots stay inside the drill.
Nothing of it changes a real level or sends a message without the exercise marking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from alerting.models import Alert, Recipient
from alueturva.auth.models import Role
from alueturva.db import Database, utcnow
from alueturva.queue import InProcessQueue
from contacts.demo import load_demo_roster
from contacts.models import Group, Membership
from loopback.smtp_server import SmtpServer
from loopback.twilio_server import FakeTwilio
from tests.conftest import auth
from tests.support.drills import act, plan, read
from tests.support.roster import Roster, make_roster, settled, wait_until

EXERCISE_WORDS = ("HARJOITUS", "ÖVNING", "EXERCISE")


@pytest.fixture
def roster(database: Database) -> Roster:
    load_demo_roster()  # the real groups a real decision about Kokkola would alert
    return make_roster(database)


def _observe(client: TestClient, keys: dict[Role, str], value: float, drill_id: int | None = None) -> int:
    body = {
        "indicator": "power_outage_customers",
        "area": "kokkola",
        "value": value,
        "observed_at": (utcnow() - timedelta(minutes=2)).isoformat(),
        "source": "verkkoyhtio",
    }
    query = f"?drill_id={drill_id}" if drill_id else ""
    return client.post(f"/api/v1/observations{query}", json=body, headers=auth(keys[Role.reporter])).status_code


def _picture(client: TestClient, keys: dict[Role, str], drill_id: int | None = None) -> dict[str, object]:
    query = f"?drill_id={drill_id}" if drill_id else ""
    response = client.get(f"/api/v1/situation{query}", headers=auth(keys[Role.viewer]))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _area(picture: dict[str, object], key: str) -> dict[str, object]:
    areas = picture["areas"]
    assert isinstance(areas, list)
    return next(area for area in areas if area["key"] == key)


def test_an_exercise_in_phases_never_leaks_into_real_life(
    twilio_settings: FakeTwilio, smtp_settings: SmtpServer, client: TestClient, keys: dict[Role, str],
    roster: Roster, database: Database, queue: InProcessQueue,
) -> None:  # fmt: skip
    operator = auth(keys[Role.operator])
    assert _observe(client, keys, 2.0) == 200  # a real observation: Kokkola's power is fine
    real_before = _picture(client, keys)
    drill = plan(
        client,
        keys,
        name="Paikallispuolustusharjoitus 2026",
        kind="exercise",
        description="Myrsky katkaisee sähköt Kokkolassa; väestönsuojelumuodostelmat perustetaan.",
        targets={"groups": [roster.group_id]},
        phases=[
            {
                "name": "Myrsky",
                "description": "Sähkökatko laajenee.",
                "title": {"fi": "Harjoitusvaihe 1: myrsky", "sv": "Övningsfas 1: storm"},
                "message": {"fi": "Kokoontukaa tilannekuvaan.", "sv": "Samlas till lägesbilden."},
                "snapshot": True,
            },
            {"name": "Muodostelmat", "description": "Väestönsuojelumuodostelmat perustetaan.", "snapshot": True},
        ],
        objectives=[{"kind": "ack_share_within", "percent": 50, "minutes": 30}],
    )
    drill_id = drill["id"]
    refused = client.post(
        "/api/v1/readiness/decisions",
        json={"area": "kokkola", "level": "tehostettu_valmius", "reason": "Harjoitus", "drill_id": drill_id},
        headers=operator,
    )
    assert refused.status_code == 409 and "not running" in refused.json()["detail"]  # a planned drill decides nothing

    act(client, keys, f"{drill_id}/start")
    phase_one = act(client, keys, f"{drill_id}/phases/1/start")
    assert phase_one["phases"][0]["started_at"] and phase_one["phases"][0]["alert_id"] in phase_one["alerts"]
    assert client.post(f"/api/v1/drills/{drill_id}/phases/1/start", headers=operator).status_code == 409

    assert _observe(client, keys, 40.0, drill_id=drill_id) == 200  # the scenario: 40 % without power
    decided = client.post(
        "/api/v1/readiness/decisions",
        json={"area": "kokkola", "level": "taysvalmius", "reason": "Harjoitus: sähkökatko", "drill_id": drill_id},
        headers=operator,
    )
    assert decided.status_code == 201, decided.text
    decision = decided.json()
    assert decision["drill_id"] == drill_id and decision["previous_level"] == "perusvalmius"
    (reaction,) = decision["reactions"]
    assert reaction["status"] == "done" and len(reaction["alert_ids"]) == 1  # the answer names the alert it sent
    phase_two = act(client, keys, f"{drill_id}/phases/2/start")
    queue.join()

    # The real picture is untouched: level, recommendation, the latest value, snapshots and history.
    real_after = _picture(client, keys)
    assert _area(real_after, "kokkola")["decided"] == _area(real_before, "kokkola")["decided"]
    assert _area(real_after, "kokkola")["recommended"]["level"] == "perusvalmius"
    assert real_after["exercise"] is None
    power = next(i for i in _area(real_after, "kokkola")["indicators"] if i["indicator"] == "power_outage_customers")
    assert power["value"] == 2.0
    snapshots = client.get("/api/v1/situation/snapshots", headers=auth(keys[Role.viewer])).json()
    assert snapshots["total"] == 0
    since = (utcnow() - timedelta(hours=1)).isoformat()
    history = client.get(
        "/api/v1/situation/history", params={"from": since, "to": utcnow().isoformat()}, headers=operator
    ).json()
    assert history["decisions"] == [] and [o["value"] for o in history["observations"]["items"]] == [2.0]

    # The exercise picture shows the drill's own value and decision, labelled.
    exercise = _picture(client, keys, drill_id)
    assert exercise["exercise"] == {"drill_id": drill_id, "name": "Paikallispuolustusharjoitus 2026"}
    kokkola = _area(exercise, "kokkola")
    assert kokkola["decided"]["level"] == "taysvalmius" and kokkola["decided"]["drill_id"] == drill_id
    assert kokkola["recommended"]["level"] == "taysvalmius"
    frozen = client.get(f"/api/v1/situation/snapshots/{phase_two['phases'][1]['snapshot_id']}", headers=operator)
    assert frozen.json()["drill_id"] == drill_id
    assert _area(frozen.json()["picture"], "kokkola")["decided"]["level"] == "taysvalmius"
    assert read(client, keys, drill_id)["exercise_levels"][0]["level"] == "taysvalmius"

    # Every alert of the drill (phase alert and the decision's reaction) is an exercise alert to the drill's targets:
    # none went to the real groups the rule names for a real decision (Kokkola's management group,
    # the valmiusjohtoryhmä).
    drill_alerts = set(read(client, keys, drill_id)["alerts"])
    with database.session() as session:
        alerts = session.scalars(select(Alert)).all()
        assert len(alerts) == 2 and all(alert.exercise for alert in alerts)
        assert {alert.id for alert in alerts} == drill_alerts
        real_groups = (
            select(Membership.person_id).join(Group).where(Group.key.in_(["johtoryhma_kokkola", "valmiusjohtoryhma"]))
        )
        reached = set(session.scalars(select(Recipient.person_id)))
        assert reached == set(roster.people.values()) and not reached & set(session.scalars(real_groups))
    for alert in alerts:
        assert wait_until(lambda alert_id=alert.id: settled(database, alert_id))
    assert twilio_settings.messages and smtp_settings.messages
    for body in [message["body"] for message in twilio_settings.messages]:
        assert body.startswith(EXERCISE_WORDS) and body.rstrip().endswith(EXERCISE_WORDS), body
    for email in smtp_settings.messages:
        assert str(email["Subject"]).startswith(tuple(f"{word} – " for word in EXERCISE_WORDS))
    cap = client.get(f"/api/v1/alerts/{alerts[0].id}/cap", headers=operator).text
    assert "<status>Exercise</status>" in cap

    act(client, keys, f"{drill_id}/end")
    late = client.post(
        "/api/v1/readiness/decisions",
        json={"area": "kokkola", "level": "perusvalmius", "reason": "Harjoitus ohi", "drill_id": drill_id},
        headers=operator,
    )
    assert late.status_code == 409  # an ended drill decides nothing more
    assert _observe(client, keys, 50.0, drill_id=drill_id) == 409


def test_a_real_decision_says_whom_it_alerts_first(client: TestClient, keys: dict[Role, str], roster: Roster) -> None:
    body = {"area": "kokkola", "level": "tehostettu_valmius", "reason": "Sähkökatko laajenee"}
    preview = client.post("/api/v1/readiness/decisions/preview", json=body, headers=auth(keys[Role.operator]))
    assert preview.status_code == 200, preview.text
    planned = preview.json()
    assert planned["drill_id"] is None and planned["change"] == "raised"
    assert planned["groups"] == ["johtoryhma_kokkola", "valmiusjohtoryhma"] and planned["people"] > 0
    assert (
        client.get("/api/v1/situation", headers=auth(keys[Role.viewer])).json()["areas"][0]["decided"]["decision_id"]
        is None
    )


def test_a_drill_id_that_is_not_a_drill_is_refused(client: TestClient, keys: dict[Role, str]) -> None:
    body = {"area": "kokkola", "level": "tehostettu_valmius", "reason": "x" * 5, "drill_id": 999}
    response = client.post("/api/v1/readiness/decisions", json=body, headers=auth(keys[Role.operator]))
    assert response.status_code == 422 and "no drill 999" in response.text
    assert client.get("/api/v1/situation?drill_id=999", headers=auth(keys[Role.viewer])).status_code == 422
