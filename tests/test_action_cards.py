"""Action cards (issue 21, step 1): cards in the database edited by admins, audited; card sets imported and exported
as YAML with bounds; the region's starter set; the municipalities' reviews; the `alueturva cards` commands."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from actioncards.cardsets import MAX_SET_BYTES, parse_set
from actioncards.cli import cards_app
from actioncards.models import ActionCard, ActionCardTask, Review
from alueturva.audit.models import AuditEvent
from alueturva.auth.models import Role
from alueturva.config import config_path
from alueturva.db import Database
from contacts.models import Organisation
from tests.conftest import auth

STARTER = config_path("action_cards/keski-pohjanmaa.yaml")
YAML = {"Content-Type": "application/yaml"}


def card(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": "myrsky-kokkola",
        "card_set": "kokkola",
        "scenario": "myrsky_sahkokatko",
        "title": {"fi": "Myrsky – tehostettu valmius", "sv": "Storm – förhöjd beredskap"},
        "level": "tehostettu_valmius",
        "area": "kokkola",
        "indicators": ["power_outage_customers"],
        "tasks": [
            {
                "text": {"fi": "Tarkista varavoima.", "sv": "Kontrollera reservkraften."},
                "role": "preparedness_contact",
                "due_minutes": 30,
                "check": {"fi": "Polttoainetta 48 tunniksi.", "sv": "Bränsle för 48 timmar."},
            },
            {
                "text": {"fi": "Kutsu johtoryhmä koolle.", "sv": "Kalla samman ledningsgruppen."},
                "role": "management_group_member",
                "target": "affected",
                "due_minutes": 60,
            },
        ],
    }
    body.update(changes)
    return body


def counts(database: Database) -> tuple[int, int, int]:
    with database.session() as session:
        return (
            session.scalar(select(func.count()).select_from(ActionCard)) or 0,
            session.scalar(select(func.count()).select_from(ActionCardTask)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("action_card%")))
            or 0,
        )


def test_an_admin_writes_a_card_everyone_reads_it_and_every_change_is_audited(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    for role in (Role.viewer, Role.operator, Role.reporter):
        refused = client.post("/api/v1/action-cards", json=card(), headers=auth(keys[role]))
        assert refused.status_code == 403
    created = client.post("/api/v1/action-cards", json=card(), headers=auth(keys[Role.admin]))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["version"] == 1 and [task["position"] for task in body["tasks"]] == [1, 2]
    assert body["tasks"][0]["target"] == "affected" and body["tasks"][0]["check"]["sv"] == "Bränsle för 48 timmar."

    listed = client.get("/api/v1/action-cards", params={"area": "kokkola"}, headers=auth(keys[Role.viewer])).json()
    assert listed["total"] == 1 and listed["items"][0]["key"] == "myrsky-kokkola"

    again = client.post("/api/v1/action-cards", json=card(), headers=auth(keys[Role.admin]))
    assert again.status_code == 409

    changed = card()
    changed["tasks"] = [changed["tasks"][1]]
    replaced = client.put("/api/v1/action-cards/myrsky-kokkola", json=changed, headers=auth(keys[Role.admin]))
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 2 and len(replaced.json()["tasks"]) == 1
    assert replaced.json()["tasks"][0]["position"] == 1
    with database.session() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.entity_type == "action_card").order_by(AuditEvent.id)
        ).all()
        assert [(e.action, e.entity_id) for e in events] == [
            ("action_card.create", "myrsky-kokkola"),
            ("action_card.update", "myrsky-kokkola"),
        ]
        assert events[1].details["changed"] == ["tasks"] and events[1].actor.startswith("apikey:")


def test_a_wrong_card_is_refused_with_what_was_wrong_and_changes_nothing(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    admin = auth(keys[Role.admin])
    wrong = {
        "level": ({"level": "perusvalmius"}, "not a raised readiness level"),
        "area": ({"area": "Tampere"}, "unknown area 'Tampere'"),
        "role": ({"tasks": [{**card()["tasks"][0], "role": "mayor"}]}, "tasks.1.role: unknown role 'mayor'"),
        "indicator": ({"indicators": ["rainfall"]}, "unknown indicator 'rainfall'"),
        "both": ({"drill_kind": "exercise"}, "either a readiness level or a drill kind"),
        "swedish": ({"title": {"fi": "Myrsky"}}, "sv"),
        "no tasks": ({"tasks": []}, "tasks"),
        "due": ({"tasks": [{**card()["tasks"][0], "due_minutes": 0}]}, "due_minutes"),
    }
    for name, (changes, detail) in wrong.items():
        answer = client.post("/api/v1/action-cards", json=card(**changes), headers=admin)
        assert answer.status_code == 422, name
        assert detail in str(answer.json()["detail"]), (name, answer.json())
    assert client.put("/api/v1/action-cards/nothing", json=card(key="nothing"), headers=admin).status_code == 404
    assert client.put("/api/v1/action-cards/other", json=card(), headers=admin).status_code == 422
    assert counts(database) == (0, 0, 0)


def test_the_starter_set_loads_and_every_text_has_finnish_and_swedish(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    data = STARTER.read_bytes()
    dry = client.post(
        "/api/v1/action-cards/import?dry_run=true", content=data, headers={**auth(keys[Role.admin]), **YAML}
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] and len(dry.json()["created"]) >= 10
    assert counts(database) == (0, 0, 0)

    imported = client.post("/api/v1/action-cards/import", content=data, headers={**auth(keys[Role.admin]), **YAML})
    assert imported.json()["created"] == dry.json()["created"]
    cards = client.get("/api/v1/action-cards", params={"set": "keski-pohjanmaa"}, headers=auth(keys[Role.viewer]))
    items = cards.json()["items"]
    raised = {(c["scenario"], c["level"]) for c in items if c["level"]}
    scenarios = {scenario for scenario, _ in raised}
    assert len(scenarios) >= 5
    assert all({(s, "tehostettu_valmius"), (s, "taysvalmius")} <= raised for s in scenarios)
    texts = [c["title"] for c in items] + [
        text for c in items for task in c["tasks"] for text in (task["text"], task["check"]) if text
    ]
    assert all(text.get("fi") and text.get("sv") for text in texts)
    assert all(text["fi"] != text["sv"] for text in texts)

    again = client.post("/api/v1/action-cards/import", content=data, headers={**auth(keys[Role.admin]), **YAML})
    assert again.json()["created"] == [] and again.json()["updated"] == [] and len(again.json()["unchanged"]) >= 10


def test_a_card_set_exported_imports_again_as_it_is_and_a_change_is_a_new_version(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    admin = {**auth(keys[Role.admin]), **YAML}
    client.post("/api/v1/action-cards/import", content=STARTER.read_bytes(), headers=admin)
    exported = client.get("/api/v1/action-cards/export", params={"set": "keski-pohjanmaa"}, headers=admin)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/yaml")
    again = parse_set(exported.content)
    starter = parse_set(STARTER.read_bytes())
    assert again.set == starter.set
    assert sorted(again.cards, key=lambda c: c.key) == sorted(starter.cards, key=lambda c: c.key)
    reimported = client.post("/api/v1/action-cards/import", content=exported.content, headers=admin).json()
    assert reimported["created"] == reimported["updated"] == [] and len(reimported["unchanged"]) == len(starter.cards)

    document = yaml.safe_load(exported.text)
    document["cards"][0]["tasks"][0]["due_minutes"] = 15
    changed = client.post(
        "/api/v1/action-cards/import", content=yaml.safe_dump(document, allow_unicode=True), headers=admin
    )
    assert changed.json()["updated"] == [document["cards"][0]["key"]]
    first = client.get("/api/v1/action-cards", params={"set": "keski-pohjanmaa"}, headers=admin).json()["items"]
    shown = next(c for c in first if c["key"] == document["cards"][0]["key"])
    assert shown["version"] == 2 and shown["tasks"][0]["due_minutes"] == 15
    assert client.get("/api/v1/action-cards/export", params={"set": "none"}, headers=admin).status_code == 404
    viewer = client.get(
        "/api/v1/action-cards/export", params={"set": "keski-pohjanmaa"}, headers=auth(keys[Role.viewer])
    )
    assert viewer.status_code == 403


def test_a_card_set_is_read_with_bounds_and_all_or_nothing(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    admin = {**auth(keys[Role.admin]), **YAML}
    good = yaml.safe_load(STARTER.read_text(encoding="utf-8"))
    broken = copy.deepcopy(good)
    broken["cards"][-1]["tasks"][0]["role"] = "mayor"
    bad = {
        "an alias": (b"set: x\ncards: &a [1]\nmore: *a\n", "anchors and aliases"),
        "a tag": (b"set: x\ncards: !!python/object:os.system []\n", "tags"),
        "not yaml": (b"set: [x\n", "not valid YAML"),
        "not utf-8": ("set: Pietarsaari – ä".encode("cp1252"), "not UTF-8"),
        "too large": (b"#" * (MAX_SET_BYTES + 1), "larger than"),
        "a wrong card": (yaml.safe_dump(broken, allow_unicode=True).encode(), "unknown role 'mayor'"),
        "a repeated key": (
            yaml.safe_dump({**good, "cards": [good["cards"][0], copy.deepcopy(good["cards"][0])]}).encode(),
            "more than once",
        ),
        "no cards": (b"set: x\n", "cards"),
    }
    for name, (data, detail) in bad.items():
        answer = client.post("/api/v1/action-cards/import", content=data, headers=admin)
        assert answer.status_code in (413, 422), name
        assert detail in str(answer.json()["detail"]), (name, answer.json())
    assert counts(database) == (0, 0, 0)


def test_municipalities_reviews_of_their_cards_and_management_group_are_kept(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    with database.session() as session:
        ids = {o.key: o.id for o in session.scalars(select(Organisation))}
    review = {
        "organisation_id": ids["veteli"],
        "subject": "management_group",
        "reviewed_by": "Liisa Esimerkki",
        "reviewed_at": "2025-11-03T10:00",
        "comment": "Kokoonpano tarkistettu; uusi varahenkilö nimetty.",
    }
    assert client.post("/api/v1/action-cards/reviews", json=review, headers=auth(keys[Role.viewer])).status_code == 403
    made = client.post("/api/v1/action-cards/reviews", json=review, headers=auth(keys[Role.admin]))
    assert made.status_code == 201, made.text
    assert made.json()["reviewed_at"].startswith("2025-11-03T08:00")  # Finnish time typed, UTC kept
    later = {**review, "subject": "action_cards", "reviewed_at": "2025-11-04", "comment": ""}
    assert client.post("/api/v1/action-cards/reviews", json=later, headers=auth(keys[Role.admin])).status_code == 201
    county = {**review, "organisation_id": ids["soite"]}
    refused = client.post("/api/v1/action-cards/reviews", json=county, headers=auth(keys[Role.admin]))
    assert refused.status_code == 422 and "not a municipality" in refused.json()["detail"]

    status = client.get("/api/v1/action-cards/reviews", headers=auth(keys[Role.viewer])).json()
    assert status["total"] == 8
    veteli = next(item for item in status["items"] if item["organisation"] == "Veteli")
    assert veteli["management_group"]["reviewed_by"] == "Liisa Esimerkki"
    assert veteli["action_cards"]["comment"] == ""
    halsua = next(item for item in status["items"] if item["organisation"] == "Halsua")
    assert halsua["management_group"] is None and halsua["action_cards"] is None
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Review)) == 2
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action == "action_card.review")).all()
        assert len(actions) == 2


def test_the_cards_commands_import_export_list_and_review(database: Database, tmp_path: Path) -> None:
    runner = CliRunner()
    imported = runner.invoke(cards_app, ["import", str(STARTER)])
    assert imported.exit_code == 0, imported.output
    assert "new" in imported.output and "+ myrsky-tehostettu" in imported.output
    listed = runner.invoke(cards_app, ["list", "--level", "taysvalmius"])
    assert "myrsky-taysvalmius" in listed.output and "myrsky-tehostettu" not in listed.output
    output = tmp_path / "set.yaml"
    assert runner.invoke(cards_app, ["export", "keski-pohjanmaa", "--output", str(output)]).exit_code == 0
    assert yaml.safe_load(output.read_text(encoding="utf-8"))["set"] == "keski-pohjanmaa"
    reviewed = runner.invoke(cards_app, ["review", "kokkola", "action_cards", "--by", "Matti Meikäläinen"])
    assert reviewed.exit_code == 0, reviewed.output
    reviews = runner.invoke(cards_app, ["reviews"])
    assert "Kokkola\tcards: " in reviews.output and "Halsua\tcards: -" in reviews.output
