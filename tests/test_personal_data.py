"""Personal data by role (issue 14), route by route: mobile numbers and email addresses go to operators and admins
only; viewers see names, titles, roles and organisations. The roster export neutralises spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from actioncards.demo import load_demo_cards
from actioncards.models import Activation
from alerting import flows
from alerting.models import Recipient
from alerting.schemas import AlertCreate
from alueturva.auth.models import Role
from alueturva.db import Database, utcnow
from alueturva.queue import InProcessQueue
from contacts.demo import load_demo_roster
from contacts.models import Group, Organisation, Person
from drills.demo import load_demo_drill
from drills.models import Drill
from tests.conftest import auth
from tests.support.roster import settled, wait_until


def _contact_details(database: Database) -> set[str]:
    with database.session() as session:
        rows = session.execute(select(Person.mobile, Person.email)).all()
    return {value for row in rows for value in row if value}


def _path_values(database: Database, alert_id: int) -> dict[str, int]:
    with database.session() as session:
        return {
            "person_id": session.scalars(select(Person.id).where(Person.mobile.is_not(None))).first() or 0,
            "organisation_id": session.scalars(select(Organisation.id)).first() or 0,
            "group_id": session.scalars(select(Group.id).where(Group.key == "alueturva")).one(),
            "alert_id": alert_id,
            "recipient_id": session.scalars(select(Recipient.id).where(Recipient.alert_id == alert_id)).first() or 0,
            "snapshot_id": 1,
            "decision_id": 1,
            "key_id": 1,
            "membership_id": 1,
            "drill_id": session.scalars(select(Drill.id)).one(),
            "activation_id": session.scalars(select(Activation.id)).one(),
        }


@pytest.fixture
def demo_alert(client: TestClient, database: Database, keys: dict[Role, str], queue: InProcessQueue) -> int:
    load_demo_roster()
    load_demo_drill()  # a held drill, whose report names the people it reached
    load_demo_cards()  # an action card in use, whose tasks name the people who hold them
    with database.session() as session:
        group_id = session.scalars(select(Group.id).where(Group.key == "alueturva")).one()
    request = AlertCreate.model_validate(
        {"title": "Harjoitus", "message": "M", "targets": {"groups": [group_id]}, "channels": ["sms", "email"]}
    )
    alert_id = flows.create_alert(request, actor="test").alert_id
    assert wait_until(lambda: settled(database, alert_id))
    operator = auth(keys[Role.operator])
    assert client.post("/api/v1/situation/snapshots", json={"label": "t"}, headers=operator).status_code == 201
    decision = {"area": "kokkola", "level": "perusvalmius", "reason": "Harjoitus"}
    assert client.post("/api/v1/readiness/decisions", json=decision, headers=operator).status_code == 201
    return alert_id


def _get_routes(client: TestClient) -> list[str]:
    paths = client.get("/openapi.json").json()["paths"]
    return [path for path, operations in paths.items() if "get" in operations and path.startswith("/api/")]


def _queries(path: str) -> list[dict[str, Any]]:
    if path == "/api/v1/situation/history":
        now = utcnow()
        return [{"from": (now - timedelta(days=30)).isoformat(), "to": (now + timedelta(days=1)).isoformat()}]
    if path == "/api/v1/rosters/compliance":
        return [{}, {"format": "text"}]
    if path == "/api/v1/drills/{drill_id}/report":
        return [{}, {"format": "html"}, {"format": "csv"}]
    if path == "/api/v1/followup":
        return [{"year": utcnow().year}]
    return [{}]


def _path(template: str, values: dict[str, int]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: str(values[match.group(1)]), template)


@pytest.mark.parametrize("role", [Role.viewer, Role.reporter])
def test_no_route_shows_a_mobile_number_or_email_address_to_a_viewer_or_reporter(
    client: TestClient, database: Database, keys: dict[Role, str], demo_alert: int, role: Role
) -> None:
    secrets = _contact_details(database)
    assert len(secrets) > 30
    values = _path_values(database, demo_alert)
    answered, leaks = [], []
    for template in _get_routes(client):
        path = _path(template, values)
        for query in _queries(template):  # the template: _queries knows a route by its pattern
            response = client.get(path, params=query, headers=auth(keys[role]))
            assert response.status_code in (200, 403), (path, response.status_code, response.text[:300])
            if response.status_code == 200:
                answered.append(path)
                leaks += [(path, value) for value in secrets if value in response.text]
    assert leaks == []
    if role is Role.viewer:
        expected = {"/api/v1/people", "/api/v1/groups", "/api/v1/rosters/compliance", "/api/v1/alerts"}
        expected.add(_path("/api/v1/drills/{drill_id}/report", values))
        assert expected <= set(answered)


@pytest.mark.parametrize("role", [Role.operator, Role.admin])
def test_operators_and_admins_see_numbers_and_addresses(
    client: TestClient, database: Database, keys: dict[Role, str], demo_alert: int, role: Role
) -> None:
    people = client.get("/api/v1/people", params={"limit": 1000}, headers=auth(keys[role])).json()["items"]
    assert people and all(person["mobile"] for person in people if person["name"])
    person = client.get(f"/api/v1/people/{people[0]['id']}", headers=auth(keys[role])).json()
    assert person["mobile"] == people[0]["mobile"] and person["email"] == people[0]["email"]


def test_viewers_still_see_names_titles_and_organisations(
    client: TestClient, database: Database, keys: dict[Role, str], demo_alert: int
) -> None:
    people = client.get("/api/v1/people", params={"limit": 1000}, headers=auth(keys[Role.viewer])).json()["items"]
    assert all(person["name"] and person["organisation_id"] for person in people)
    assert any(person["title"] for person in people)
    assert all(person["mobile"] is None and person["email"] is None for person in people)


FORMULAS = {"name": '=HYPERLINK("http://x")'}


def test_the_roster_export_neutralises_formulas_and_round_trips(
    client: TestClient, database: Database, keys: dict[Role, str]
) -> None:
    admin = auth(keys[Role.admin])
    organisation = client.get("/api/v1/organisations", headers=admin).json()["items"][0]
    created = client.post(
        "/api/v1/people",
        json={"name": FORMULAS["name"], "title": "-2+3", "organisation_id": organisation["id"], "mobile": "0401234567"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    groups = client.get("/api/v1/groups", headers=admin).json()["items"]
    member = {"person_id": created.json()["id"], "role": "preparedness_contact"}
    assert client.post(f"/api/v1/groups/{groups[0]['id']}/members", json=member, headers=admin).status_code == 201
    exported = client.get("/api/v1/rosters/export", headers=admin).content
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig")), delimiter=";"))
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    assert {"'" + FORMULAS["name"], "'-2+3", "'+358401234567"} <= set(cells)
    again = client.post(
        "/api/v1/rosters/import",
        params={"dry_run": "true"},
        content=exported,
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert again.status_code == 200, again.text
    assert again.json()["changed"] is False
    with database.session() as session:
        person = session.get(Person, created.json()["id"])
        assert person is not None and person.name == FORMULAS["name"] and person.title == "-2+3"
