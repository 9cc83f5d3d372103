"""Numbers and names stay out of logs and error answers on every route (issue 23): with the demo roster and an
erased person, every API route is called as an admin with a person's number wherever a value goes (path, query,
body), and neither the JSON log lines nor any 4xx answer holds a roster number; SMS bodies never hold a name."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from alerting import flows
from alerting.models import OutboxMessage
from alerting.schemas import AlertCreate
from alueturva.auth.models import Role
from alueturva.db import Database
from contacts.demo import load_demo_roster
from contacts.models import Group, Person
from tests.conftest import auth
from tests.support.roster import settled, wait_until

NUMBER = "+358401234999"  # a roster number sent where a value goes


@pytest.fixture
def roster(database: Database) -> tuple[list[str], list[str]]:
    load_demo_roster()
    with database.session() as session:
        person = session.scalars(select(Person).where(Person.mobile.is_not(None))).first()
        assert person is not None
        person.mobile = NUMBER
        session.commit()
    with database.session() as session:
        people = session.execute(select(Person.name, Person.mobile)).all()
    return [row.mobile for row in people if row.mobile], [row.name for row in people]


def _path(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", template)


def test_no_route_logs_or_answers_a_phone_number(
    client: TestClient,
    keys: dict[Role, str],
    roster: tuple[list[str], list[str]],
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    from alueturva.logging import configure_logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging()
    request.addfinalizer(lambda: (setattr(root, "handlers", saved[0]), root.setLevel(saved[1])))
    numbers, _ = roster
    admin = auth(keys[Role.admin])
    paths = client.get("/openapi.json").json()["paths"]
    erased = client.post("/api/v1/people/1/erase", json={"reason": "x", "mobile": NUMBER}, headers=admin)
    assert erased.status_code == 422  # the erasure's own error answer
    errors = [erased.text]
    for template, operations in paths.items():
        if not template.startswith("/api/"):
            continue
        path = _path(template)
        for method in operations:
            if method not in ("get", "post", "patch", "put", "delete") or template.endswith("/erase"):
                continue
            if method == "get":
                answer = client.get(path, params={"q": NUMBER, "person_id": NUMBER}, headers=admin)
            elif method == "delete":
                continue  # a deletion takes no value
            else:
                answer = client.request(method.upper(), path, json={"mobile": NUMBER, "reason": NUMBER}, headers=admin)
            if 400 <= answer.status_code < 500:
                errors.append(answer.text)
    assert len(errors) > 10  # the numbers went where values go, and were refused (later ones as too many failures)
    lines = capsys.readouterr().err
    for number in numbers:
        national = "0" + number.removeprefix("+358")
        for text in (lines, *errors):
            assert number not in text and national not in text


def test_no_sms_body_holds_a_name(
    database: Database, queue: object, roster: tuple[list[str], list[str]], client: TestClient
) -> None:
    _, names = roster
    with database.session() as session:
        group_id = session.scalars(select(Group.id).where(Group.key == "alueturva")).one()
    body = {"title": "Koe", "message": "Kuittaa.", "targets": {"groups": [group_id]}, "channels": ["sms"]}
    alert_id = flows.create_alert(AlertCreate.model_validate(body), actor="test").alert_id
    assert wait_until(lambda: settled(database, alert_id))
    with database.session() as session:
        bodies = session.scalars(select(OutboxMessage.body).where(OutboxMessage.channel == "sms")).all()
    assert bodies
    for text in bodies:
        assert not any(name in text for name in names)
