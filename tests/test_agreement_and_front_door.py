"""The agreement's own facts (one contact per municipality for both duties, the county's members of the
valmiusjohtoryhmä, the cost split as the agreement's example, the legal references) and the front door (a reply that
names the alert it acknowledged, errors in the page's language, sending refused while an SMS version is too long, the
command line wholly in one language)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from alerting import flows
from alerting.console_cli import sms_app
from alerting.schemas import AlertCreate
from alueturva.auth.models import Role
from alueturva.db import Database
from alueturva.queue import InProcessQueue
from contacts.demo import load_demo_roster
from contacts.models import Group, Membership, Organisation, Person
from tests.conftest import auth
from tests.support.roster import make_roster
from tests.support.web import sign_in

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def test_one_contact_covers_preparedness_and_civil_defence_and_a_second_is_possible(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    load_demo_roster()
    report = client.get("/api/v1/rosters/compliance", headers=auth(keys[Role.viewer])).json()
    kannus = {r["role"]: r for r in report["organisations"]["Kannus"]}
    assert "civil_defence_contact" not in kannus  # not a requirement of its own: nothing inflates the total
    assert kannus["preparedness_contact"]["status"] == "ok"
    assert kannus["preparedness_contact"]["role_name"]["fi"] == "Varautumisen ja väestönsuojelun yhteyshenkilö"
    roles = client.get("/api/v1/roles", headers=auth(keys[Role.viewer])).json()
    second = next(role for role in roles["items"] if role["key"] == "civil_defence_contact")
    assert second.get("required") is None  # a municipality may still name a second person


def test_the_county_s_members_of_the_valmiusjohtoryhma_are_members(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    load_demo_roster()
    with database.session() as session:
        group = session.scalars(select(Group).where(Group.key == "valmiusjohtoryhma")).one()
        rescue = session.scalars(select(Organisation).where(Organisation.key == "pelastuslaitos")).one()
        chief = Person(name="Pelastusjohtaja Esimerkki", organisation_id=rescue.id, mobile="+46701740690")
        session.add(chief)
        session.flush()
        session.add(Membership(group=group, person=chief, role_key="valmiusjohtoryhma_member"))
    report = client.get("/api/v1/rosters/compliance", headers=auth(keys[Role.viewer])).json()
    (rule,) = report["rules"]
    assert rule["ok"] is True and rule["county_members"] == 1 and rule["outside_areas"] == 0
    text = client.get("/api/v1/rosters/compliance?format=text&language=fi", headers=auth(keys[Role.viewer])).text
    assert "hyvinvointialueelta 1 jäsen (ryhmä toimii yhdessä hyvinvointialueen kanssa)" in text
    assert "ulkopuolelta" not in text


def test_the_cost_split_is_the_agreement_s_example_calculated_not_agreed(
    client: TestClient, keys: dict[Role, str]
) -> None:
    followup = client.get("/api/v1/followup?year=2026", headers=auth(keys[Role.viewer])).json()
    costs = followup["costs"]
    assert costs["basis"] == "example" and costs["vat_percent"] == 0
    assert costs["population_date"] == "2024-12-31"
    assert costs["applies_to"] == "Alueturvan tekstiviesti- ja puhelukulut (harjoitukset ja todelliset hälytykset)"
    html = client.get("/api/v1/followup?year=2026&format=html", headers=auth(keys[Role.viewer])).text
    assert "Laskennallinen jako yhteistyösopimuksen esimerkin mukaan, ei sovittu" in html
    assert "alv 0 %" in html and "asukasluku 31.12.2024" in html
    assert "kukin osapuoli vastaa omista kustannuksistaan" in html
    swedish = client.get("/api/v1/followup?year=2026&format=html&language=sv", headers=auth(keys[Role.viewer])).text
    assert "inte avtalad" in swedish and "moms 0 %" in swedish and "Karleby" in swedish


def test_the_legal_references_are_right_everywhere() -> None:
    roles = (ROOT / "config" / "roles.yaml").read_text(encoding="utf-8")
    assert "valtioneuvoston asetus 308/2023" in roles and "pelastuslaki 379/2011" in roles
    for path in [*ROOT.glob("config/*.yaml"), *ROOT.glob("docs/*.md"), ROOT / "README.md"]:
        text = path.read_text(encoding="utf-8")
        if path.name == "glossary.md":
            continue
        assert "STM 308" not in text and "379/2021" not in text, path
        assert not re.search(r"[Yy]hteistoimintasopimu", text), path


def test_a_bare_ok_names_the_alert_it_acknowledged_and_how_to_answer_the_other(
    database: Database, queue: InProcessQueue
) -> None:
    roster = make_roster(database)

    def send(title: str) -> str:
        body = {"title": title, "message": "Kuittaa.", "targets": {"groups": [roster.group_id]}, "channels": ["sms"]}
        alert_id = flows.create_alert(AlertCreate.model_validate(body), actor="test").alert_id
        assert queue.join()
        return flows.alert_status(alert_id).short_code

    first, second = send("Vesikatko"), send("Myrsky")
    answered = runner.invoke(sms_app, ["reply", "--from", roster.mobiles["aino"], "ok"])
    assert answered.exit_code == 0, answered.output
    assert f"Kiitos, kuittaus kirjattu: Myrsky (koodi {second})." in answered.output  # the newest
    assert f"Sinulla on myös avoin hälytys Vesikatko: kuittaa se vastaamalla OK {first}." in answered.output
    again = runner.invoke(sms_app, ["reply", "--from", roster.mobiles["aino"], "ok"])
    assert f"Kiitos, kuittaus kirjattu: Vesikatko (koodi {first})." in again.output  # then the other one
    assert "avoin hälytys" not in again.output


def test_sending_is_refused_on_the_page_until_the_long_version_is_shortened(
    client: TestClient, database: Database, accounts: dict[Role, int]
) -> None:
    roster = make_roster(database)
    token = sign_in(client, Role.operator)
    form = {
        "csrf_token": token,
        "groups": str(roster.group_id),
        "title_fi": "Harjoitus",
        "message_fi": "Lyhyt viesti.",
        "title_sv": "Övning",
        "message_sv": "Långt meddelande. " * 40,
        "channels": "sms",
        "exercise": "on",
        "idempotency_key": "too-long",
    }
    preview = client.post("/alerts/new/preview", data=form)
    assert preview.status_code == 200, preview.text
    assert "Lyhennä versiota Ruotsiksi" in preview.text
    button = preview.text.split('action="/alerts/new/send"')[1].split("</button>")[0]
    assert " disabled" in button
    refused = client.post("/alerts/new/send", data=form)
    assert refused.status_code == 422
    assert "Tekstiviesti on liian pitkä" in refused.text and "segments" not in refused.text  # the page's language


def test_the_drill_commands_speak_one_language(database: Database) -> None:
    from drills.cli import drill_app
    from drills.demo import load_demo_drill

    load_demo_roster()
    load_demo_drill()
    english = runner.invoke(drill_app, ["list"], env={"COLUMNS": "200"})
    assert english.exit_code == 0, english.output
    assert "Management group alerting exercise (demo)" in english.output and "ended" in english.output
    for finnish in ("nimi", "laji", "tila", "päättynyt", "hälytysharjoitus"):
        assert finnish not in english.output, finnish
    swedish = runner.invoke(drill_app, ["show", "1", "--language", "sv"], env={"COLUMNS": "200"})
    assert "Larmövning för ledningsgrupperna (demo)" in swedish.output and "ej bedömt" in swedish.output
