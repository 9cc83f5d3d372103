"""Erasing a person (issue 23 §3): out of every roster, every row about them pseudonymised, reports keep their figures
and show the pseudonym, the compliance report shows the role unfilled, and nothing of their name, number or address
is readable: not in the API, the roster export, the demo outbox, nor in the SQLite file's bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from alerting.models import InboundMessage, OutboxMessage, Recipient
from alueturva.auth.models import Role
from alueturva.db import Database
from alueturva.personal.pseudonym import person_pseudonym
from contacts.demo import load_demo_roster
from contacts.models import Membership, Person
from drills.demo import load_demo_drill
from drills.models import ReportFile
from tests.conftest import auth
from tests.support.personal import import_exercise, reports, same_figures


def _roles_held(client: TestClient, keys: dict[Role, str], person_id: int) -> list[tuple[str, str, str]]:
    report = client.get("/api/v1/rosters/compliance", headers=auth(keys[Role.viewer])).json()
    return [
        (organisation, result["role"], result["status"])
        for organisation, results in report["organisations"].items()
        for result in results
        # a role they alone hold, with no deputy (a deputy whose principal leaves becomes a member of their own)
        if [named["person_id"] for named in result["named"]] == [person_id] and not result["has_deputy"]
    ]


@pytest.fixture
def person(client: TestClient, keys: dict[Role, str], database: Database) -> dict[str, Any]:
    """Someone the demo drill alerted, holding a role the agreement requires, with an SMS reply and a
    message in the demo outbox; the imported exercise's log names them by number."""
    load_demo_roster()
    load_demo_drill()
    import_exercise(client, keys, database)
    with database.session() as session:
        alerted = set(session.scalars(select(Recipient.person_id)))
        # the deputies in the demo stand in for those alerted: without them, a role has its one holder only
        session.execute(delete(Membership).where(Membership.deputy_of_id.is_not(None)))
        session.commit()
    with database.session() as session:
        candidates = session.scalars(
            select(Person).where(Person.id.in_(alerted), Person.mobile.is_not(None), Person.email.is_not(None))
        ).all()
    for candidate in candidates:
        roles = _roles_held(client, keys, candidate.id)
        if roles:
            break
    else:
        pytest.fail("the demo has nobody alerted who holds a required role")
    with database.session() as session:
        session.add(InboundMessage(provider_id="SM9", person_id=candidate.id, body="1 tulen", outcome="answered"))
        session.add(OutboxMessage(channel="sms", to=candidate.mobile, body="HARJOITUS – Kuittaa.", reference="d9"))
        session.commit()
    return {"id": candidate.id, "name": candidate.name, "mobile": candidate.mobile, "email": candidate.email}


def _without_named_contacts(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Take the follow-ups' named-contacts metric out of ``figures``; what was taken out."""
    taken = []
    for key in [key for key in figures if key.startswith("followup")]:
        taken += [m for m in figures[key]["metrics"] if m["key"] == "named_contacts"]
        figures[key]["metrics"] = [m for m in figures[key]["metrics"] if m["key"] != "named_contacts"]
    return taken


def test_an_erased_person_leaves_the_rosters_and_reports_keep_their_figures(
    client: TestClient, keys: dict[Role, str], database: Database, person: dict[str, Any]
) -> None:
    admin = auth(keys[Role.admin])
    before = reports(client, keys, database)
    roles_before = _roles_held(client, keys, person["id"])

    answer = client.post(f"/api/v1/people/{person['id']}/erase", json={"reason": "Pyyntö 3.12."}, headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["rows"]["alerting.deliveries"] > 0 and answer.json()["rows"]["contacts.person"] > 1

    after = reports(client, keys, database)
    # the person's roles, what the roster lacks and the follow-up's named contacts are the roster as it is now: the
    # erased person holds no role
    named_before, named_after = (_without_named_contacts(figures) for figures in (before, after))
    assert named_after != named_before
    same_figures(before, after, left_out=frozenset({"roles", "roster_fixes"}))
    fixes = {(f["organisation"], f["problem"]) for f in after["drill 1 fi"]["roster_fixes"]}
    assert fixes >= {
        (f["organisation"], f["problem"]) for f in before["drill 1 fi"]["roster_fixes"] if f["person"] is None
    }
    code = person_pseudonym(person["id"])[1:5]
    shown = {p["name"] for key, report in after.items() if key.endswith(" fi") for p in report["people"]}
    assert f"Henkilö {code}" in shown and person["name"] not in shown
    assert any(p["name"] == f"Person {code}" for p in after["drill 1 sv"]["people"])

    compliance = client.get("/api/v1/rosters/compliance", headers=auth(keys[Role.viewer])).json()
    assert roles_before
    for organisation, role, _ in roles_before:
        (result,) = [r for r in compliance["organisations"][organisation] if r["role"] == role]
        assert result["status"] == "missing"  # the role is unfilled now
    with database.session() as session:
        assert session.scalars(select(Membership).where(Membership.person_id == person["id"])).all() == []

    people = client.get("/api/v1/people?limit=500", headers=admin).json()["items"]
    assert person["id"] not in {p["id"] for p in people}
    exported = client.get("/api/v1/rosters/export", headers=admin).text
    outbox = client.get("/api/v1/outbox?limit=500", headers=admin).text
    data = client.get(f"/api/v1/people/{person['id']}/data-export", headers=admin).text
    for text in (exported, outbox, data):
        for value in (person["name"], person["mobile"], person["email"]):
            assert value not in text


def test_nothing_of_an_erased_person_remains_in_the_sqlite_file(
    client: TestClient, keys: dict[Role, str], database: Database, person: dict[str, Any]
) -> None:
    if not database.url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps old row versions until VACUUM (docs/personal-data.md §3)")
    path = Path(database.url.removeprefix("sqlite:///"))
    number = person["mobile"].encode()
    with database.session() as session:  # a built report's PDF that names them (a cache of the report)
        session.add(ReportFile(drill_id=1, variant="fi:full", fingerprint="f", body=b"%PDF " + number))
        session.commit()
    assert number in path.read_bytes() + _wal(path)  # the test would see it
    answer = client.post(
        f"/api/v1/people/{person['id']}/erase", json={"reason": "Pyyntö"}, headers=auth(keys[Role.admin])
    )
    assert answer.status_code == 200
    content = path.read_bytes() + _wal(path)
    with database.session() as session:
        assert session.scalars(select(ReportFile)).all() == []  # built again when asked for
    for value in (person["mobile"], person["email"], person["name"]):
        assert value.encode() not in content, value


def _wal(path: Path) -> bytes:
    wal = path.with_name(path.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


def test_erasing_needs_an_admin_a_reason_and_a_person_not_erased_yet(
    client: TestClient, keys: dict[Role, str], database: Database, person: dict[str, Any]
) -> None:
    path, admin = f"/api/v1/people/{person['id']}/erase", auth(keys[Role.admin])
    for role in (Role.viewer, Role.operator):
        assert client.post(path, json={"reason": "x"}, headers=auth(keys[role])).status_code == 403
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}, {"reason": "x", "also": 1}):
        refused = client.post(path, json=body, headers=admin)
        assert refused.status_code == 422, body
    assert client.post("/api/v1/people/999999/erase", json={"reason": "x"}, headers=admin).status_code == 404
    with database.session() as session:
        assert session.get(Person, person["id"]).erased_at is None  # type: ignore[union-attr]  # nothing changed
    assert client.post(path, json={"reason": "x"}, headers=admin).status_code == 200
    again = client.post(path, json={"reason": "x"}, headers=admin)
    assert again.status_code == 409 and "erased already" in again.json()["detail"]
