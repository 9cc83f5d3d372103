"""The console's action cards (issue 21, step 5): the list of activations with their progress, and each one's task
board live like an alert's page; an operator marks a task on someone's behalf with a reason, or ends the card; a
viewer reads the board without numbers and without the forms."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from actioncards.flows import import_set
from alueturva.auth.models import Role
from alueturva.config import config_path
from alueturva.db import Database
from contacts.demo import load_demo_roster
from contacts.models import Person
from tests.conftest import auth
from tests.support.web import sign_in

STARTER = config_path("action_cards/keski-pohjanmaa.yaml")


@pytest.fixture
def activation(client: TestClient, keys: dict[Role, str], database: Database) -> dict[str, Any]:
    load_demo_roster()
    import_set(data=STARTER.read_bytes(), source="starter", actor="test")
    body = {"card": "myrsky-taysvalmius", "area": "Perhonjokilaakso"}
    answer = client.post("/api/v1/activations", json=body, headers=auth(keys[Role.operator]))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_an_operator_follows_the_board_and_marks_a_task_for_someone(
    client: TestClient, accounts: dict[Role, int], activation: dict[str, Any]
) -> None:
    token = sign_in(client, Role.operator)
    listed = client.get("/activations")
    assert listed.status_code == 200 and f'href="/activations/{activation["id"]}"' in listed.text
    assert "0 / " in listed.text

    board = client.get(f"/activations/{activation['id']}")
    assert board.status_code == 200
    assert "Myrsky ja laaja sähkökatko – täysvalmius" in board.text and "Perhonjokilaakso" in board.text
    for organisation in ("Halsua", "Kaustinen", "Perho", "Veteli", "Pelastuslaitos"):
        assert f"<h3>{organisation}</h3>" in board.text
    live = client.get(f"/activations/{activation['id']}/live")
    assert live.status_code == 200 and "<html" not in live.text and "T1 " in live.text

    task = next(t for t in activation["tasks"] if t["assignee"])
    path = f"/activations/{activation['id']}/tasks/{task['id']}/mark"
    empty = client.post(path, data={"csrf_token": token, "mark": "done", "reason": " "})
    assert empty.status_code == 422
    marked = client.post(
        path, data={"csrf_token": token, "mark": "done", "reason": "Ilmoitti puhelimessa"}, follow_redirects=False
    )
    assert marked.status_code == 303
    again = client.post(path, data={"csrf_token": token, "mark": "cannot", "reason": "x"})
    assert again.status_code == 409
    other = client.post(
        f"/activations/{activation['id'] + 1}/tasks/{task['id']}/mark",
        data={"csrf_token": token, "mark": "done", "reason": "x"},
    )
    assert other.status_code == 404
    assert "1 / " in client.get("/activations").text

    closed = client.post(
        f"/activations/{activation['id']}/close",
        data={"csrf_token": token, "reason": "Myrsky ohi / Stormen över"},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    ended = client.get(f"/activations/{activation['id']}")
    assert "<strong>peruttu</strong>" in ended.text and "<strong>tehty</strong>" in ended.text


def test_a_viewer_reads_the_board_without_numbers_or_forms(
    client: TestClient, accounts: dict[Role, int], activation: dict[str, Any], database: Database
) -> None:
    token = sign_in(client, Role.viewer)
    board = client.get(f"/activations/{activation['id']}")
    assert board.status_code == 200 and "/mark" not in board.text and "/close" not in board.text
    with database.session() as session:
        numbers = [m for m in session.scalars(select(Person.mobile)) if m]
    assert not any(number in board.text for number in numbers) and "+358" not in board.text
    refused = client.post(f"/activations/{activation['id']}/close", data={"csrf_token": token, "reason": "x"})
    assert refused.status_code == 403
