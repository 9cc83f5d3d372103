from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from alueturva.auth.models import Role
from alueturva.db import Database
from contacts.demo import load_demo_roster
from contacts.models import Person
from tests.conftest import auth

HEADER = "organisation;name;title;mobile;email;language;group;role;deputy_of;order\n"


def _compliance(client: TestClient, key: str) -> dict:
    response = client.get("/api/v1/rosters/compliance", headers=auth(key))
    assert response.status_code == 200, response.text
    return response.json()


def _find(results: list[dict], role: str) -> dict:
    return next(r for r in results if r["role"] == role)


def test_an_empty_roster_is_missing_everything(client: TestClient, keys: dict[Role, str]) -> None:
    report = _compliance(client, keys[Role.viewer])
    assert report["complete"] is False and report["met"] == 0
    assert set(report["organisations"]) == {
        "Halsua",
        "Kannus",
        "Kaustinen",
        "Kokkola",
        "Lestijärvi",
        "Perho",
        "Toholampi",
        "Veteli",
        "Pelastuslaitos",
        "Soite",
    }
    assert [r["role"] for r in report["organisations"]["Soite"]] == ["substance_abuse_violence_contact"]
    assert {r["status"] for r in report["organisations"]["Kokkola"]} == {"missing"}
    assert [a["scope"] for a in report["areas"]] == ["Kokkola", "Perhonjokilaakso", "Lestijokilaakso"]
    assert [r["role"] for r in report["region"]] == ["environmental_health_representative"]
    assert report["rules"][0]["ok"] is False


def test_the_demo_roster_meets_all_but_one_deliberate_gap(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    with database.session() as session:
        load_demo_roster(session)
    report = _compliance(client, keys[Role.viewer])
    assert report["total"] - report["met"] == 1
    gap = _find(report["organisations"]["Lestijärvi"], "substance_abuse_violence_contact")
    assert gap["status"] == "missing" and gap["problems"] == ["1 of 1 not named"]
    kokkola = _find(report["organisations"]["Kokkola"], "preparedness_contact")
    assert kokkola["status"] == "ok" and kokkola["has_deputy"] and kokkola["reachable"]
    assert all(area["status"] == "ok" for area in report["areas"])
    assert report["rules"] == [
        {
            "rule": "valmiusjohtoryhma_member_composition",
            "ok": True,
            "message": "Readiness management group member: one member from each of Kokkola, Perhonjokilaakso, "
            "Lestijokilaakso — ok",
        }
    ]


def test_reachability_deputies_and_the_composition_rule(client: TestClient, keys: dict[Role, str]) -> None:
    roster = (
        HEADER
        + "Kokkola;A;;0401000001;;fi;alueturva;preparedness_contact;;\n"
        + "Kokkola;B;;0401000002;b@kokkola.example;fi;valmiusjohtoryhma;valmiusjohtoryhma_member;;\n"
        + "Kokkola;C;;0401000003;c@kokkola.example;fi;valmiusjohtoryhma;valmiusjohtoryhma_member;;\n"
        + "Kannus;D;;0401000004;d@kannus.example;fi;valmiusjohtoryhma;valmiusjohtoryhma_member;;\n"
    )
    response = client.post(
        "/api/v1/rosters/import", content=roster.encode(), headers=auth(keys[Role.admin]) | {"Content-Type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    report = _compliance(client, keys[Role.viewer])
    preparedness = _find(report["organisations"]["Kokkola"], "preparedness_contact")
    assert preparedness["status"] == "incomplete"
    assert preparedness["reachable"] is False
    assert preparedness["named"][0]["problems"] == ["no email address"]
    assert "no deputy named" in preparedness["problems"]
    rule = report["rules"][0]
    assert rule["ok"] is False
    assert "2 members from Kokkola" in rule["message"] and "0 members from Perhonjokilaakso" in rule["message"]


def test_inactive_people_do_not_count_as_named(client: TestClient, keys: dict[Role, str], database: Database) -> None:
    with database.session() as session:
        load_demo_roster(session)
        contact = session.scalars(select(Person).where(Person.title == "Valmiuspäällikkö")).all()
        kokkola_contact = next(p for p in contact if p.organisation.key == "kokkola")
        kokkola_contact.active = False
    report = _compliance(client, keys[Role.viewer])
    assert _find(report["organisations"]["Kokkola"], "preparedness_contact")["status"] == "missing"


def test_text_report_for_people_in_three_languages(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    with database.session() as session:
        load_demo_roster(session)
    expected = {"fi": "45/46 vaatimusta täytetty", "sv": "45/46 krav uppfyllda", "en": "45/46 requirements met"}
    for language, summary in expected.items():
        response = client.get(
            "/api/v1/rosters/compliance",
            params={"format": "text", "language": language},
            headers=auth(keys[Role.viewer]),
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert summary in response.text
    assert (
        "[puuttuu] Ehkäisevän päihdetyön"
        in client.get("/api/v1/rosters/compliance", params={"format": "text"}, headers=auth(keys[Role.viewer])).text
    )


def test_cli_check_exits_2_while_something_is_missing(database: Database) -> None:
    from alueturva.app.cli import _register_domain_commands, app

    _register_domain_commands()
    runner = CliRunner()
    demo = runner.invoke(app, ["demo"])
    assert demo.exit_code == 0, demo.output
    assert "people created" in demo.output
    check = runner.invoke(app, ["roster", "check", "--language", "en"])
    assert check.exit_code == 2
    assert "45/46 requirements met" in check.output
    as_json = runner.invoke(app, ["roster", "check", "--json"])
    assert '"status": "missing"' in as_json.output
