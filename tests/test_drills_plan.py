"""Planning drills: operators plan and run them, viewers read them; bad input gets a 4xx that names the field, and
nothing is stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from alueturva.audit.models import AuditEvent
from alueturva.auth.models import Role
from alueturva.db import Database, utcnow
from alueturva.queue import InProcessQueue
from drills.models import Drill
from tests.conftest import auth
from tests.support.drills import act, plan, read
from tests.support.roster import Roster, make_roster


@pytest.fixture
def roster(database: Database) -> Roster:
    return make_roster(database)


def _body(roster: Roster, **fields: Any) -> dict[str, Any]:
    return {
        "name": "Viestiliikennekoe",
        "kind": "communication_test",
        "targets": {"groups": [roster.group_id]},
        "title": "Viestiliikennekoe",
        "message": "Kuittaa tämä viesti.",
        **fields,
    }


def _drills(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count(Drill.id))) or 0


@pytest.mark.parametrize(
    ("fields", "status", "problem"),
    [
        ({"targets": {"groups": [999_999]}}, 422, "targets: unknown groups: 999999"),
        ({"targets": {"people": []}}, 422, "name at least one target"),
        ({"objectives": [{"kind": "ack_share_within", "minutes": 15}]}, 422, "percent"),
        ({"objectives": [{"kind": "every_area_within"}]}, 422, "minutes"),
        ({"objectives": [{"kind": "fastest_finger"}]}, 422, "objectives"),
        ({"objectives": [{"kind": "ack_share_within", "percent": 120, "minutes": 5}]}, 422, "percent"),
        ({"schedule": {"cron": "0 0 31 2 *"}}, 422, "schedule.cron: '0 0 31 2 *' never fires"),
        ({"schedule": {"cron": "every monday please"}}, 422, "schedule.cron"),
        (
            {"schedule": {"at": "2025-11-28T09:00:00"}},
            422,
            "schedule.at: 28 Nov 2025 09:00 (Finnish time) is in the past",
        ),
        ({"schedule": {"at": "2027-03-28T03:30:00"}}, 422, "does not exist in Finnish time"),
        ({"title": None, "message": None}, 422, "needs a title and a message"),
        ({"phases": [{"name": "Vaihe 1"}]}, 422, "only an exercise has phases"),
        ({"response_options": ["Vain yksi"]}, 422, "at least two response options"),
        (
            {
                "title": {"fi": "Koe", "sv": "Prov"},
                "message": {"fi": "Kuittaa.", "sv": "Kvittera."},
                "response_options": ["Tulen", "En tule"],
            },
            422,
            "the title is in fi, sv but the response option 1 in fi",
        ),
        ({"kind": "tabletop"}, 422, "kind"),
        ({"surprise": True}, 422, "surprise"),
    ],
)
def test_bad_plans_are_refused_naming_the_field_and_nothing_is_stored(
    client: TestClient, keys: dict[Role, str], roster: Roster, database: Database,
    fields: dict[str, Any], status: int, problem: str,
) -> None:  # fmt: skip
    response = client.post("/api/v1/drills", json=_body(roster, **fields), headers=auth(keys[Role.operator]))
    assert response.status_code == status, response.text
    assert problem in response.text
    assert _drills(database) == 0


def test_operators_plan_and_run_drills_viewers_read_them(
    client: TestClient, keys: dict[Role, str], roster: Roster, queue: InProcessQueue
) -> None:
    assert client.post("/api/v1/drills", json=_body(roster)).status_code == 401
    for role in (Role.viewer, Role.reporter):
        assert client.post("/api/v1/drills", json=_body(roster), headers=auth(keys[role])).status_code == 403
    drill = plan(client, keys, **_body(roster))
    viewer = auth(keys[Role.viewer])
    for action in ("start", "end", "cancel", "phases/1/start", "objectives/1/rating", "observations"):
        assert client.post(f"/api/v1/drills/{drill['id']}/{action}", json={}, headers=viewer).status_code == 403
    assert client.patch(f"/api/v1/drills/{drill['id']}", json={"name": "x"}, headers=viewer).status_code == 403
    listed = client.get("/api/v1/drills", headers=viewer).json()
    assert listed["total"] == 1 and listed["items"][0]["name"] == "Viestiliikennekoe"
    assert client.get("/api/v1/drills/12345", headers=viewer).status_code == 404


def test_a_planned_drill_can_change_and_a_started_one_only_its_words(
    client: TestClient, keys: dict[Role, str], roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    operator = auth(keys[Role.operator])
    drill = plan(client, keys, **_body(roster, objectives=[{"kind": "manual", "text": "Viesti ymmärrettiin"}]))
    at = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    objectives = [{"kind": "max_unreachable", "count": 1}, {"kind": "manual", "text": "Viesti ymmärrettiin"}]
    changed = client.patch(
        f"/api/v1/drills/{drill['id']}",
        json={"schedule": {"at": at.isoformat()}, "objectives": objectives},
        headers=operator,
    )
    assert changed.status_code == 200, changed.text  # the objectives replaced, positions reused
    assert [o["kind"] for o in changed.json()["objectives"]] == ["max_unreachable", "manual"]
    assert changed.json()["schedule"]["at"]
    act(client, keys, f"{drill['id']}/start")
    refused = client.patch(f"/api/v1/drills/{drill['id']}", json={"targets": {"areas": ["Kokkola"]}}, headers=operator)
    assert refused.status_code == 409 and "targets" in refused.json()["detail"]
    renamed = client.patch(f"/api/v1/drills/{drill['id']}", json={"description": "Tarkennettu"}, headers=operator)
    assert renamed.status_code == 200 and renamed.json()["description"] == "Tarkennettu"
    with database.session() as session:
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "drill")))
    assert actions == ["drill.plan", "drill.update", "drill.start", "drill.update"]


def test_a_planned_drill_is_cancelled_and_a_running_one_is_ended_not_cancelled(
    client: TestClient, keys: dict[Role, str], roster: Roster, queue: InProcessQueue
) -> None:
    operator = auth(keys[Role.operator])
    planned = plan(client, keys, **_body(roster))
    assert act(client, keys, f"{planned['id']}/cancel")["state"] == "cancelled"
    assert client.post(f"/api/v1/drills/{planned['id']}/start", headers=operator).status_code == 409
    running = plan(client, keys, **_body(roster))
    act(client, keys, f"{running['id']}/start")
    assert client.post(f"/api/v1/drills/{running['id']}/cancel", headers=operator).status_code == 409
    assert act(client, keys, f"{running['id']}/end")["state"] == "ended"
    assert client.post(f"/api/v1/drills/{running['id']}/end", headers=operator).status_code == 409


def test_evaluators_record_observations_during_and_after_a_drill(
    client: TestClient, keys: dict[Role, str], roster: Roster, queue: InProcessQueue
) -> None:
    operator = auth(keys[Role.operator])
    drill = plan(client, keys, **_body(roster))
    early = client.post(f"/api/v1/drills/{drill['id']}/observations", json={"text": "liian aikaisin"}, headers=operator)
    assert early.status_code == 409
    act(client, keys, f"{drill['id']}/start")
    first = act(client, keys, f"{drill['id']}/observations", text="Kokkolan päivystäjä vastasi heti")
    assert first["author"] == "test operator" and first["recorded_by"].startswith("apikey:")
    typed = act(
        client, keys, f"{drill['id']}/observations", text="Soitto Perhoon", author="Arvioija A", at="2026-12-01T09:10"
    )
    assert typed["at"] == "2026-12-01T07:10:00Z"  # typed in Finnish time
    bad_phase = client.post(
        f"/api/v1/drills/{drill['id']}/observations", json={"text": "x", "phase": 3}, headers=operator
    )
    assert bad_phase.status_code == 422 and "no phase 3" in bad_phase.text
    act(client, keys, f"{drill['id']}/end")
    act(client, keys, f"{drill['id']}/observations", text="Jälkikäteen: tekstiviesti tuli kahdesti yhdelle")
    assert [o["text"][:6] for o in read(client, keys, drill["id"])["observations"]] == ["Soitto", "Kokkol", "Jälkik"]
