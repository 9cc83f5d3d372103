"""A drill's plan names action cards (issue 21): when the drill starts each is activated as the drill's exercise,
with tasks, never as a real activation; the drill's end closes them; a key that names no card in use is a 422 when
the plan is saved, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from actioncards.flows import import_set
from actioncards.models import ActionCard, ActivationMessage
from alerting.models import Alert
from alueturva.auth.models import Role
from alueturva.config import config_path
from alueturva.db import Database
from alueturva.errors import Invalid
from contacts.demo import load_demo_roster
from drills.cli import drill_app
from drills.models import Drill
from tests.conftest import auth
from tests.support.drills import act, plan, read
from tests.support.web import sign_in

runner = CliRunner()
STARTER = config_path("action_cards/keski-pohjanmaa.yaml")
DRILL: dict[str, Any] = {
    "name": "Myrskyharjoitus",
    "kind": "exercise",
    "description": "Myrsky katkaisee sähköt Kokkolassa.",
    "targets": {"areas": ["Kokkola"]},
}


@pytest.fixture
def cards(database: Database) -> None:
    load_demo_roster()
    import_set(data=STARTER.read_bytes(), source="starter", actor="test")


def activations(client: TestClient, keys: dict[Role, str], **params: Any) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/activations", params=params, headers=auth(keys[Role.viewer]))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def test_the_cards_a_drill_plan_names_are_its_exercise_when_it_starts_and_close_when_it_ends(
    client: TestClient, keys: dict[Role, str], database: Database, cards: None
) -> None:
    drill = plan(client, keys, **DRILL, action_cards=["myrsky-tehostettu", "johtoryhman-halytysharjoitus"])
    assert read(client, keys, drill["id"])["action_cards"] == ["myrsky-tehostettu", "johtoryhman-halytysharjoitus"]
    assert activations(client, keys, drill_id=drill["id"]) == []  # planned: nothing yet

    act(client, keys, f"{drill['id']}/start")
    made = activations(client, keys, drill_id=drill["id"])
    assert {activation["card"] for activation in made} == {"myrsky-tehostettu", "johtoryhman-halytysharjoitus"}
    for activation in made:
        assert activation["exercise"] and activation["drill_id"] == drill["id"] and activation["state"] == "active"
        assert activation["tasks"] and {task["state"] for task in activation["tasks"]} == {"open"}
    assert activations(client, keys) == []  # the real activations: none

    with database.session() as session:  # each holder's message went out, as an exercise
        alert_ids = session.scalars(select(ActivationMessage.alert_id)).all()
        assert alert_ids and None not in alert_ids
        assert {alert.exercise for alert in session.scalars(select(Alert).where(Alert.id.in_(alert_ids)))} == {True}

    act(client, keys, f"{drill['id']}/end")
    for activation in activations(client, keys, drill_id=drill["id"]):
        assert activation["state"] == "closed" and f"drill {drill['id']} ended" in activation["close_reason"]
        assert {task["state"] for task in activation["tasks"]} == {"cancelled"}


def test_a_card_key_not_in_use_is_refused_when_the_plan_is_saved_and_changes_nothing(
    client: TestClient, keys: dict[Role, str], database: Database, cards: None
) -> None:
    operator = auth(keys[Role.operator])
    answer = client.post(
        "/api/v1/drills", json={**DRILL, "action_cards": ["myrsky-tehostettu", "ei-ole"]}, headers=operator
    )
    assert answer.status_code == 422, answer.text
    assert "action_cards" in answer.text and "ei-ole" in answer.text
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Drill)) == 0

    drill = plan(client, keys, **DRILL, action_cards=["myrsky-tehostettu"])
    answer = client.patch(f"/api/v1/drills/{drill['id']}", json={"action_cards": ["ei-ole"]}, headers=operator)
    assert answer.status_code == 422 and "ei-ole" in answer.text, answer.text
    assert read(client, keys, drill["id"])["action_cards"] == ["myrsky-tehostettu"]
    with database.session() as session:  # the card taken out of use after the plan was saved
        session.scalars(select(ActionCard).where(ActionCard.key == "myrsky-tehostettu")).one().active = False
    refused = client.post(f"/api/v1/drills/{drill['id']}/start", headers=operator)
    assert refused.status_code == 422 and "myrsky-tehostettu" in refused.text, refused.text
    assert read(client, keys, drill["id"])["state"] == "planned"
    bad = client.post("/api/v1/drills", json={**DRILL, "action_cards": ["Ei Avain"]}, headers=operator)
    assert bad.status_code == 422, bad.text


def test_the_command_line_plans_a_drill_that_names_cards(database: Database, cards: None) -> None:
    command = ["plan", "--name", "Myrskyharjoitus", "--kind", "exercise", "--area", "Kokkola"]
    planned = runner.invoke(drill_app, [*command, "--card", "myrsky-tehostettu"])
    assert planned.exit_code == 0, planned.output
    assert "action cards: myrsky-tehostettu" in planned.output

    wrong = runner.invoke(drill_app, [*command, "--card", "ei-ole"])
    assert isinstance(wrong.exception, Invalid) and "action_cards: " in str(wrong.exception)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Drill)) == 1


def test_the_console_s_drill_form_names_cards_in_use(
    client: TestClient, database: Database, accounts: dict[Role, int], cards: None
) -> None:
    token = sign_in(client, Role.operator)
    form = client.get("/drills/new")
    assert 'name="action_cards" value="myrsky-tehostettu"' in form.text and "Toimintaohjekortit" in form.text
    fields = {"csrf_token": token, "name": "Myrskyharjoitus", "kind": "exercise", "areas": "Kokkola"}
    fields |= {"schedule": "manual", "objectives": []}
    planned = client.post("/drills/new", data={**fields, "action_cards": ["myrsky-tehostettu"]}, follow_redirects=False)
    assert planned.status_code == 303, planned.text
    with database.session() as session:
        assert session.scalars(select(Drill)).one().action_cards == ["myrsky-tehostettu"]

    refused = client.post("/drills/new", data={**fields, "action_cards": ["ei-ole"]})
    assert refused.status_code == 422
    assert 'id="action_cards-error">Jokin valituista korteista ei ole enää käytössä' in refused.text
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Drill)) == 1
