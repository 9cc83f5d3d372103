"""Who read whose contact details (issue 23 §4): every read of a person's number or address by an API key or a
console user is an audit entry about that person (who, when, which route or page); a list is a read of each person
it shows; admins list reads per person and per reader."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from alueturva.auth.models import Role, User
from alueturva.db import Database
from contacts.demo import load_demo_roster
from contacts.models import Person
from drills.demo import load_demo_drill
from tests.conftest import auth
from tests.support.web import make_accounts, sign_in


def _reads(client: TestClient, keys: dict[Role, str], **query: Any) -> list[dict[str, Any]]:
    answer = client.get(
        "/api/v1/audit", params={"kind": "read", "limit": 1000, **query}, headers=auth(keys[Role.admin])
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def test_every_read_of_contact_details_is_audited_and_a_list_reads_each_person_shown(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    load_demo_roster()
    operator, viewer = auth(keys[Role.operator]), auth(keys[Role.viewer])
    listed = client.get("/api/v1/people?limit=5", headers=operator).json()["items"]
    reads = _reads(client, keys)
    assert sorted(int(entry["entity_id"]) for entry in reads) == sorted(p["id"] for p in listed)
    assert {entry["details"]["route"] for entry in reads} == {"GET /api/v1/people"}
    assert len({entry["actor"] for entry in reads}) == 1 and all(entry["at"] for entry in reads)

    client.get("/api/v1/people?limit=5", headers=viewer)  # names only: no contact details read
    client.get(f"/api/v1/people/{listed[0]['id']}", headers=viewer)
    assert len(_reads(client, keys)) == len(reads)

    one = listed[0]["id"]
    client.get(f"/api/v1/people/{one}", headers=auth(keys[Role.admin]))
    about_one = _reads(client, keys, person_id=one)
    assert [entry["details"]["route"] for entry in about_one] == ["GET /api/v1/people/{id}", "GET /api/v1/people"]
    reader = reads[0]["actor"]
    assert {int(e["entity_id"]) for e in _reads(client, keys, actor=reader)} == {p["id"] for p in listed}
    changes = client.get(f"/api/v1/audit?person_id={one}&kind=change", headers=auth(keys[Role.admin])).json()
    assert all(item["action"] != "person.read" for item in changes["items"])


def test_exports_reports_and_console_pages_are_reads_too(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    load_demo_roster()
    load_demo_drill()
    admin = auth(keys[Role.admin])
    with database.session() as session:
        on_roster = set(session.scalars(select(Person.id)))
    client.get("/api/v1/rosters/export", headers=admin)
    assert {int(e["entity_id"]) for e in _reads(client, keys)} == on_roster

    before = len(_reads(client, keys))
    report = client.get("/api/v1/drills/1/report?format=json", headers=auth(keys[Role.operator])).json()
    assert len(_reads(client, keys)) == before + len({p["person_id"] for p in report["people"] if p["person_id"]})
    client.get("/api/v1/drills/1/report?format=json&redact=true", headers=auth(keys[Role.operator]))
    client.get("/api/v1/drills/1/report?format=json", headers=auth(keys[Role.viewer]))  # names only
    after_report = _reads(client, keys)
    assert len(after_report) == before + len({p["person_id"] for p in report["people"] if p["person_id"]})

    make_accounts(database)
    sign_in(client, Role.operator)
    client.get("/rosters/people")
    with database.session() as session:
        user_id = session.scalars(select(User.id).where(User.email == "operator@example.fi")).one()
    console = _reads(client, keys, actor=f"web:user:{user_id}")
    assert console and {e["details"]["route"] for e in console} == {"/rosters/people"}


def test_only_admins_list_reads_and_a_bad_query_is_refused(client: TestClient, keys: dict[Role, str]) -> None:
    for role in (Role.viewer, Role.operator):
        assert client.get("/api/v1/audit?kind=read", headers=auth(keys[role])).status_code == 403
    admin = auth(keys[Role.admin])
    assert client.get("/api/v1/audit?kind=look", headers=admin).status_code == 422
    assert client.get("/api/v1/audit?person_id=0", headers=admin).status_code == 422
    conflicting = client.get("/api/v1/audit?person_id=3&entity_type=alert", headers=admin)
    assert conflicting.status_code == 422 and "person_id" in conflicting.json()["detail"]
