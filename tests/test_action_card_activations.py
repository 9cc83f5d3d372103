"""Action cards in use (issue 21, step 2): a raised readiness decision activates the matching cards for its area with
tasks for the role holders; a lower level, an operator or the drill's end closes them and cancels open tasks; a drill's
activations never mix with real ones; an operator marks a task on someone's behalf, audited; a viewer sees no
numbers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from actioncards.flows import import_set
from alueturva.audit.models import AuditEvent
from alueturva.auth.models import Role
from alueturva.config import config_path
from alueturva.db import Database, utcnow
from contacts.demo import load_demo_roster
from contacts.models import Membership, Person
from tests.conftest import auth
from tests.support.drills import act, plan, read

STARTER = config_path("action_cards/keski-pohjanmaa.yaml")


@pytest.fixture
def cards(database: Database) -> None:
    load_demo_roster()
    import_set(data=STARTER.read_bytes(), source="starter", actor="test")


def observe(client: TestClient, keys: dict[Role, str], value: float, drill_id: int | None = None) -> None:
    body = {
        "indicator": "power_outage_customers",
        "area": "kokkola",
        "value": value,
        "observed_at": (utcnow() - timedelta(minutes=2)).isoformat(),
        "source": "verkkoyhtio",
    }
    query = f"?drill_id={drill_id}" if drill_id else ""
    answer = client.post(f"/api/v1/observations{query}", json=body, headers=auth(keys[Role.reporter]))
    assert answer.status_code == 200, answer.text


def decide(client: TestClient, keys: dict[Role, str], level: str, drill_id: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"area": "Kokkola", "level": level, "reason": "Myrsky / Storm"}
    if drill_id:
        body["drill_id"] = drill_id
    answer = client.post("/api/v1/readiness/decisions", json=body, headers=auth(keys[Role.operator]))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def activations(client: TestClient, keys: dict[Role, str], **params: Any) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/activations", params=params, headers=auth(keys[Role.viewer]))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def holders(database: Database, role: str, organisation_key: str | None = None) -> set[str]:
    """Names of the main holders of ``role`` in its designated group (in one organisation, if given)."""
    from contacts.catalogue import roles_by_key
    from contacts.models import Group, Organisation

    group = roles_by_key()[role].group
    with database.session() as session:
        rows = session.execute(
            select(Person.name, Organisation.key, Group.key)
            .join(Membership, Membership.person_id == Person.id)
            .join(Group, Group.id == Membership.group_id)
            .join(Organisation, Organisation.id == Person.organisation_id)
            .where(Membership.role_key == role, Membership.deputy_of_id.is_(None))
        ).all()
    return {
        name
        for name, organisation, group_key in rows
        if group_key == group.replace("{organisation}", organisation)
        and (organisation_key is None or organisation == organisation_key)
    }


def test_a_raised_decision_activates_its_risks_cards_and_a_lower_level_closes_them(
    client: TestClient, keys: dict[Role, str], database: Database, cards: None
) -> None:
    observe(client, keys, 15.0)  # 15 % of Kokkola without power: the storm card's indicator stands raised
    decision = decide(client, keys, "tehostettu_valmius")
    assert decision["reactions"][0]["status"] == "done"
    (activation,) = activations(client, keys, area="Kokkola", state="active")
    assert activation["card"] == "myrsky-tehostettu" and activation["decision_id"] == decision["id"]
    assert activation["level"] == "tehostettu_valmius" and not activation["exercise"] and activation["drill_id"] is None
    tasks = activation["tasks"]
    assert {task["state"] for task in tasks} == {"open"}
    by_role: dict[str, set[str | None]] = {}
    for task in tasks:
        by_role.setdefault(task["role"], set()).add(task["assignee"])
    assert by_role["preparedness_contact"] == holders(database, "preparedness_contact", "kokkola")
    assert by_role["alueturva_lead"] == holders(database, "alueturva_lead", "pelastuslaitos")
    assert {t["organisation"] for t in tasks if t["role"] == "preparedness_contact"} == {"Kokkola"}
    first = next(task for task in tasks if task["position"] == 1)
    assert first["text"]["sv"].startswith("Kontrollera kommunens reservkraft")
    due = {task["position"]: task["due_at"] for task in tasks}
    assert due[1] < due[2]  # 30 and 60 minutes after the activation

    # The other risks' cards stay unused: nothing of theirs stands raised.
    assert len(activations(client, keys)) == 1
    # The same reaction handled again (a retry) makes nothing twice.
    from situation.reactions import dispatch_reactions

    dispatch_reactions(decision_id=decision["id"], now=utcnow() + timedelta(hours=2))
    assert len(activations(client, keys)) == 1

    operator = auth(keys[Role.operator])
    done = client.post(
        f"/api/v1/tasks/{first['id']}/done",
        json={"reason": "Soitti päivystäjälle / Ringde jouren", "comment": "Varavoima kunnossa"},
        headers=operator,
    )
    assert done.status_code == 200, done.text
    shown = next(task for task in done.json()["tasks"] if task["id"] == first["id"])
    assert shown["state"] == "done" and shown["done_at"] and shown["comment"] == "Varavoima kunnossa"
    assert shown["marked_by"].startswith("apikey:")
    again = client.post(f"/api/v1/tasks/{first['id']}/done", json={"reason": "again"}, headers=operator)
    assert again.status_code == 200  # the same mark again changes nothing
    other = client.post(f"/api/v1/tasks/{first['id']}/cannot", json={"reason": "x"}, headers=operator)
    assert other.status_code == 409
    viewer = client.post(f"/api/v1/tasks/{first['id']}/done", json={"reason": "x"}, headers=auth(keys[Role.viewer]))
    assert viewer.status_code == 403
    assert client.post("/api/v1/tasks/999999/done", json={"reason": "x"}, headers=operator).status_code == 404

    decide(client, keys, "perusvalmius")
    (closed,) = activations(client, keys, area="Kokkola")
    assert closed["state"] == "closed" and "lowered" in closed["close_reason"]
    states = {task["id"]: task["state"] for task in closed["tasks"]}
    assert states.pop(first["id"]) == "done" and set(states.values()) == {"cancelled"}
    late = client.post(f"/api/v1/tasks/{closed['tasks'][-1]['id']}/done", json={"reason": "x"}, headers=operator)
    assert late.status_code == 409 and "closed" in late.json()["detail"]
    with database.session() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("action_card.%"))).all()
    assert {"action_card.activate", "action_card.task_done", "action_card.close"} <= set(actions)


def test_a_decision_in_a_drill_activates_exercise_cards_that_never_mix_with_real_ones(
    client: TestClient, keys: dict[Role, str], database: Database, cards: None
) -> None:
    drill = plan(
        client,
        keys,
        name="Myrskyharjoitus",
        kind="exercise",
        description="Myrsky katkaisee sähköt Kokkolassa.",
        targets={"areas": ["Kokkola"]},
        objectives=[{"kind": "tasks_done_within", "percent": 10, "minutes": 60}],
    )
    act(client, keys, f"{drill['id']}/start")
    observe(client, keys, 40.0, drill_id=drill["id"])  # only in the drill's picture
    decide(client, keys, "taysvalmius", drill_id=drill["id"])

    assert activations(client, keys) == []  # the real activations: none
    (exercise,) = activations(client, keys, drill_id=drill["id"])
    assert exercise["exercise"] and exercise["drill_id"] == drill["id"] and exercise["card"] == "myrsky-taysvalmius"

    (goal,) = read(client, keys, drill["id"])["objectives"]
    assert goal["met"] is None and goal["value"]["done_within"] == 0  # open while the drill runs
    total = goal["value"]["tasks"]
    assert total == len(exercise["tasks"])
    for task in exercise["tasks"][: -(-total // 10)]:  # a tenth of them, rounded up
        marked = client.post(
            f"/api/v1/tasks/{task['id']}/done", json={"reason": "Harjoitus"}, headers=auth(keys[Role.operator])
        )
        assert marked.status_code == 200
    (goal,) = read(client, keys, drill["id"])["objectives"]
    assert goal["met"] is True and goal["value"]["done_within"] == -(-total // 10)

    act(client, keys, f"{drill['id']}/end")
    (ended,) = activations(client, keys, drill_id=drill["id"])
    assert ended["state"] == "closed" and {task["state"] for task in ended["tasks"]} == {"done", "cancelled"}
    assert f"drill {drill['id']} ended" in ended["close_reason"]


def test_an_operator_activates_a_card_by_hand_and_closes_it(
    client: TestClient, keys: dict[Role, str], database: Database, cards: None
) -> None:
    operator = auth(keys[Role.operator])
    body = {"card": "vesihuolto-tehostettu", "area": "halsua", "idempotency_key": "vesi-1"}
    assert client.post("/api/v1/activations", json=body, headers=auth(keys[Role.viewer])).status_code == 403
    made = client.post("/api/v1/activations", json=body, headers=operator)
    assert made.status_code == 201, made.text
    activation = made.json()
    assert activation["area"] == "halsua" and activation["activated_by"].startswith("apikey:")
    assert {task["organisation"] for task in activation["tasks"] if task["role"] == "preparedness_contact"} == {
        "Halsua"
    }
    assert client.post("/api/v1/activations", json=body, headers=operator).json()["id"] == activation["id"]
    wrong = {
        "unknown card": ({**body, "card": "tulva", "idempotency_key": "x1"}, 404),
        "unknown area": ({**body, "area": "Tampere", "idempotency_key": "x2"}, 422),
        "key of another card": ({**body, "card": "kyber-tehostettu"}, 409),
        "drill not running": ({**body, "drill_id": 99, "idempotency_key": "x3"}, 422),
    }
    for name, (request, code) in wrong.items():
        assert client.post("/api/v1/activations", json=request, headers=operator).status_code == code, name
    assert len(activations(client, keys)) == 1

    closed = client.post(
        f"/api/v1/activations/{activation['id']}/close",
        json={"reason": "Häiriö ohi / Störningen över"},
        headers=operator,
    )
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert {task["state"] for task in closed.json()["tasks"]} == {"cancelled"}
    again = client.post(f"/api/v1/activations/{activation['id']}/close", json={"reason": "x"}, headers=operator)
    assert again.status_code == 409


def test_a_viewer_sees_names_and_never_numbers(
    client: TestClient, keys: dict[Role, str], database: Database, cards: None
) -> None:
    client.post(
        "/api/v1/activations",
        json={"card": "evakuointi-taysvalmius", "area": "region"},
        headers=auth(keys[Role.operator]),
    )
    answer = client.get("/api/v1/activations", headers=auth(keys[Role.viewer]))
    assert answer.status_code == 200 and answer.json()["total"] == 1
    with database.session() as session:
        numbers = [m for m in session.scalars(select(Person.mobile)) if m]
        emails = [e for e in session.scalars(select(Person.email)) if e]
    assert numbers and not any(number in answer.text for number in numbers)
    assert not any(email in answer.text for email in emails) and "+358" not in answer.text
    assert any(task["assignee"] for task in answer.json()["items"][0]["tasks"])


def test_the_demo_has_a_card_in_use_partly_done(client: TestClient, keys: dict[Role, str], database: Database) -> None:
    from actioncards.demo import load_demo_cards
    from actioncards.models import ActivationMessage
    from situation.demo import load_demo_picture

    load_demo_roster()
    load_demo_picture()
    assert "1 in use" in load_demo_cards()
    assert load_demo_cards() == "demo action cards already loaded"
    (demo,) = activations(client, keys, state="active")
    assert demo["area"] == "Perhonjokilaakso" and demo["card"] == "myrsky-tehostettu"
    states = [task["state"] for task in demo["tasks"]]
    assert 0 < states.count("done") < len(states) and "cannot" in states and "open" in states
    assert any(task["overdue"] for task in demo["tasks"])
    with database.session() as session:
        assert session.scalars(select(ActivationMessage)).first() is None  # history: nobody was messaged
