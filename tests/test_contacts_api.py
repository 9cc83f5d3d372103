from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, insert, select

from alueturva.audit.models import AuditEvent
from alueturva.auth.models import Role
from alueturva.db import Database
from contacts.models import Membership, Person
from tests.conftest import auth


def _organisation_id(client: TestClient, key: str, headers: dict[str, str]) -> int:
    items = client.get("/api/v1/organisations", headers=headers).json()["items"]
    return next(o["id"] for o in items if o["key"] == key)


def _counts(database: Database) -> tuple[int, int]:
    with database.session() as session:
        people = session.scalar(select(func.count(Person.id))) or 0
        events = session.scalar(select(func.count(AuditEvent.id))) or 0
    return people, events


def test_the_agreements_organisations_are_seeded(client: TestClient, keys: dict[Role, str]) -> None:
    body = client.get("/api/v1/organisations", headers=auth(keys[Role.viewer])).json()
    assert body["total"] == 11
    by_key = {o["key"]: o for o in body["items"]}
    assert by_key["kokkola"] | {"id": 0} == {
        "id": 0,
        "key": "kokkola",
        "short_name": "Kokkola",
        "name": "Kokkolan kaupunki",
        "name_sv": "Karleby stad",
        "name_en": "City of Kokkola",
        "business_id": "0179377-8",
        "kind": "municipality",
        "area": "Kokkola",
        "population": 48367,
        "languages": ["fi", "sv"],
        "parent_id": None,
    }
    assert by_key["pelastuslaitos"]["parent_id"] == by_key["soite"]["id"]
    assert sum(o["kind"] == "municipality" for o in body["items"]) == 8
    assert {o["area"] for o in body["items"] if o["kind"] == "municipality"} == {
        "Kokkola",
        "Perhonjokilaakso",
        "Lestijokilaakso",
    }
    assert by_key["liitto"]["business_id"] == "0959806-1"


def test_built_in_groups_exist_for_the_agreement(client: TestClient, keys: dict[Role, str]) -> None:
    groups = client.get("/api/v1/groups", headers=auth(keys[Role.viewer])).json()["items"]
    keys_ = {g["key"] for g in groups}
    assert {"alueturva", "alueturva_steering", "valmiusjohtoryhma", "johtoryhma_kokkola", "johtoryhma_halsua"} <= keys_
    assert sum(k.startswith("johtoryhma_") for k in keys_) == 8
    assert all(g["builtin"] for g in groups)


def test_person_mobile_is_stored_as_e164_and_audited(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    admin = auth(keys[Role.admin])
    org = _organisation_id(client, "kannus", admin)
    response = client.post(
        "/api/v1/people",
        json={"name": "Aino Esimerkki", "organisation_id": org, "mobile": "040 123 4567", "email": "a@kannus.example"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    person = response.json()
    assert person["mobile"] == "+358401234567"
    assert person["language"] == "fi" and person["active"] is True
    events = client.get("/api/v1/audit", params={"entity_type": "person"}, headers=admin).json()["items"]
    assert [(e["action"], e["entity_id"]) for e in events] == [("person.create", str(person["id"]))]
    assert events[0]["actor"].startswith("apikey:")
    assert "+358401234567" not in str(events)


@pytest.mark.parametrize(
    ("patch", "field", "message"),
    [
        ({"mobile": "06 8287111"}, "mobile", "landline"),
        ({"mobile": "not a number"}, "mobile", "not a phone number"),
        ({"email": "nobody@"}, "email", "not a valid email"),
        ({"name": "x" * 201}, "name", "at most 200"),
        ({"name": ""}, "name", "at least 1"),
        ({"language": "de"}, "language", "'fi', 'sv' or 'en'"),
        ({"organisation_id": "kokkola"}, "organisation_id", "valid integer"),
        ({"nickname": "Aki"}, "nickname", "Extra inputs"),
    ],
)
def test_bad_person_input_is_refused_and_changes_nothing(
    client: TestClient, keys: dict[Role, str], database: Database, patch: dict[str, object], field: str, message: str
) -> None:
    admin = auth(keys[Role.admin])
    org = _organisation_id(client, "kokkola", admin)
    before = _counts(database)
    body = {"name": "Eero Esimerkki", "organisation_id": org, "mobile": "0501234567"} | patch
    response = client.post("/api/v1/people", json=body, headers=admin)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(field in e["loc"] and message in e["msg"] for e in errors), errors
    assert _counts(database) == before


def test_malformed_json_is_a_clear_422(client: TestClient, keys: dict[Role, str]) -> None:
    response = client.post(
        "/api/v1/people",
        content=b'{"name": "x",',
        headers=auth(keys[Role.admin]) | {"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "JSON" in str(response.json()["detail"])


def test_unknown_ids_are_404(client: TestClient, keys: dict[Role, str], database: Database) -> None:
    admin = auth(keys[Role.admin])
    before = _counts(database)
    response = client.post("/api/v1/people", json={"name": "X", "organisation_id": 99999}, headers=admin)
    assert response.status_code == 404
    assert "organisation" in response.json()["detail"]
    assert client.get("/api/v1/people/424242", headers=admin).status_code == 404
    assert client.patch("/api/v1/groups/424242", json={"name": "x"}, headers=admin).status_code == 404
    assert _counts(database) == before


def test_a_mobile_number_belongs_to_one_person(client: TestClient, keys: dict[Role, str], database: Database) -> None:
    admin = auth(keys[Role.admin])
    org = _organisation_id(client, "perho", admin)
    first = client.post(
        "/api/v1/people", json={"name": "A", "organisation_id": org, "mobile": "0401111111"}, headers=admin
    )
    assert first.status_code == 201
    before = _counts(database)
    second = client.post(
        "/api/v1/people", json={"name": "B", "organisation_id": org, "mobile": "+358 40 111 1111"}, headers=admin
    )
    assert second.status_code == 409
    assert "mobile" in second.json()["detail"]
    assert _counts(database) == before


def test_update_and_delete_person(client: TestClient, keys: dict[Role, str]) -> None:
    admin = auth(keys[Role.admin])
    org = _organisation_id(client, "veteli", admin)
    person = client.post("/api/v1/people", json={"name": "A", "organisation_id": org}, headers=admin).json()
    updated = client.patch(
        f"/api/v1/people/{person['id']}", json={"title": "Kunnanjohtaja", "language": "sv"}, headers=admin
    )
    assert updated.status_code == 200
    assert updated.json()["title"] == "Kunnanjohtaja" and updated.json()["language"] == "sv"
    assert client.delete(f"/api/v1/people/{person['id']}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/people/{person['id']}", headers=admin).status_code == 404
    actions = [e["action"] for e in client.get("/api/v1/audit", headers=admin).json()["items"]]
    assert actions[:3] == ["person.delete", "person.update", "person.create"]


def test_group_membership_with_roles_and_deputies(client: TestClient, keys: dict[Role, str]) -> None:
    admin = auth(keys[Role.admin])
    org = _organisation_id(client, "kokkola", admin)
    groups = client.get("/api/v1/groups", headers=admin).json()["items"]
    group_id = next(g["id"] for g in groups if g["key"] == "valmiusjohtoryhma")
    a = client.post("/api/v1/people", json={"name": "A", "organisation_id": org}, headers=admin).json()
    b = client.post("/api/v1/people", json={"name": "B", "organisation_id": org}, headers=admin).json()
    added = client.post(
        f"/api/v1/groups/{group_id}/members",
        json={"person_id": a["id"], "role": "valmiusjohtoryhma_member"},
        headers=admin,
    )
    assert added.status_code == 201, added.text
    member_id = added.json()["members"][0]["id"]
    unknown_role = client.post(
        f"/api/v1/groups/{group_id}/members", json={"person_id": b["id"], "role": "king"}, headers=admin
    )
    assert unknown_role.status_code == 422 and "unknown role 'king'" in unknown_role.json()["detail"]
    bad_deputy = client.post(
        f"/api/v1/groups/{group_id}/members",
        json={"person_id": b["id"], "role": "valmiusjohtoryhma_member", "deputy_of": 999},
        headers=admin,
    )
    assert bad_deputy.status_code == 422
    deputy = client.post(
        f"/api/v1/groups/{group_id}/members",
        json={"person_id": b["id"], "role": "valmiusjohtoryhma_member", "deputy_of": member_id, "order": 1},
        headers=admin,
    )
    assert deputy.status_code == 201
    detail = client.get(f"/api/v1/groups/{group_id}", headers=auth(keys[Role.viewer])).json()
    assert [(m["name"], m["deputy_of"]) for m in detail["members"]] == [("A", None), ("B", member_id)]
    assert detail["member_count"] == 2
    removed = client.delete(f"/api/v1/groups/{group_id}/members/{member_id}", headers=admin)
    assert removed.status_code == 200
    assert [(m["name"], m["deputy_of"]) for m in removed.json()["members"]] == [("B", None)]


def test_members_of_the_same_order_keep_the_order_they_were_added_in_after_a_change(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    """Ties in ``order`` fall back to when the member was added, not to where the database keeps the row: on
    PostgreSQL a row written again lands elsewhere in the table, and the list (and a person's roles in a report)
    used to reorder with it."""
    admin = auth(keys[Role.admin])
    org = _organisation_id(client, "kokkola", admin)
    group = client.post(
        "/api/v1/groups", json={"key": "tilannekuva", "name": "Tilannekuvaryhmä", "organisation_id": org}, headers=admin
    )
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    names = ["Ensimmäinen", "Toinen", "Kolmas"]
    for name in names:
        person = client.post("/api/v1/people", json={"name": name, "organisation_id": org}, headers=admin).json()
        added = client.post(
            f"/api/v1/groups/{group_id}/members",
            json={"person_id": person["id"], "role": "valmiusjohtoryhma_member"},
            headers=admin,
        )
        assert added.status_code == 201, added.text
    table = Membership.__table__
    with database.session() as session:  # the first member's row written again, the same in every column
        first = session.execute(select(table).where(table.c.group_id == group_id).order_by(table.c.id)).first()
        assert first is not None
        session.execute(delete(table).where(table.c.id == first.id))
        session.execute(insert(table).values(**first._mapping))
    detail = client.get(f"/api/v1/groups/{group_id}", headers=auth(keys[Role.viewer])).json()
    assert [member["name"] for member in detail["members"]] == names


def test_built_in_groups_cannot_be_deleted(client: TestClient, keys: dict[Role, str]) -> None:
    admin = auth(keys[Role.admin])
    groups = client.get("/api/v1/groups", headers=admin).json()["items"]
    response = client.delete(f"/api/v1/groups/{groups[0]['id']}", headers=admin)
    assert response.status_code == 409
    assert "built in" in response.json()["detail"]


def test_role_catalogue_covers_the_agreement(client: TestClient, keys: dict[Role, str]) -> None:
    roles = {r["key"]: r for r in client.get("/api/v1/roles", headers=auth(keys[Role.viewer])).json()["items"]}
    assert {
        "preparedness_contact",
        "civil_defence_contact",
        "alueturva_responsible",
        "environmental_health_representative",
        "valmiusjohtoryhma_member",
        "substance_abuse_violence_contact",
        "management_group_member",
    } <= set(roles)
    assert roles["valmiusjohtoryhma_member"]["required"]["per"] == "area"
    assert roles["substance_abuse_violence_contact"]["required"]["kinds"] == ["county", "municipality"]
    assert all(set(r["names"]) == {"fi", "sv", "en"} for r in roles.values())


def _api_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every /api/v1 operation, from the OpenAPI document the app serves."""
    paths = client.get("/openapi.json").json()["paths"]
    return [(method.upper(), path) for path, item in paths.items() if path.startswith("/api/v1") for method in item]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_api_route_needs_a_key(client: TestClient) -> None:
    routes = _api_routes(client)
    assert len(routes) > 20
    for method, path in routes:
        response = client.request(method, _concrete(path))
        assert response.status_code == 401, (method, path, response.status_code)


def test_viewers_cannot_change_rosters(client: TestClient, keys: dict[Role, str]) -> None:
    viewer = auth(keys[Role.viewer])
    reporter = auth(keys[Role.reporter])
    for method, path in _api_routes(client):
        if not path.startswith(("/api/v1/organisations", "/api/v1/people", "/api/v1/groups", "/api/v1/rosters")):
            continue
        if method in ("POST", "PATCH", "DELETE") or path.endswith("/export"):
            assert client.request(method, _concrete(path), headers=viewer).status_code == 403, (method, path)
        assert client.request(method, _concrete(path), headers=reporter).status_code == 403, (method, path)


def test_patch_cannot_null_a_required_field(client: TestClient, keys: dict[Role, str], database: Database) -> None:
    admin = auth(keys[Role.admin])
    org = _organisation_id(client, "halsua", admin)
    person = client.post("/api/v1/people", json={"name": "A", "organisation_id": org}, headers=admin).json()
    before = _counts(database)
    response = client.patch(f"/api/v1/people/{person['id']}", json={"name": None}, headers=admin)
    assert response.status_code == 422
    assert "name cannot be null" in str(response.json()["detail"])
    assert client.patch(f"/api/v1/people/{person['id']}", json={"title": None}, headers=admin).status_code == 200
    assert _counts(database) == before
