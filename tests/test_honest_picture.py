"""The situational picture says only what is known: no recommendation without fresh data, how much of each area is
current, who decided a level and why; it refreshes itself; decisions from the console with a confirmation of what
they set in motion; the demo's picture is alive."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from alerting.models import Alert
from alueturva.auth.models import Role
from alueturva.db import Database, utcnow
from alueturva.queue import InProcessQueue
from contacts.demo import load_demo_roster
from situation.models import Observation, ReadinessDecision
from tests.conftest import auth
from tests.support.drills import act, plan
from tests.support.roster import make_roster
from tests.support.web import sign_in

runner = CliRunner()


def observe(client: TestClient, keys: dict[Role, str], indicator: str, area: str, value: float, minutes_ago: float = 0):
    body = {
        "indicator": indicator,
        "area": area,
        "value": value,
        "observed_at": (utcnow() - timedelta(minutes=minutes_ago)).isoformat(),
        "source": "test",
    }
    response = client.post("/api/v1/observations", json=body, headers=auth(keys[Role.reporter]))
    assert response.status_code == 200, response.text


def areas(client: TestClient, keys: dict[Role, str]) -> dict[str, dict[str, Any]]:
    response = client.get("/api/v1/situation", headers=auth(keys[Role.viewer]))
    assert response.status_code == 200, response.text
    return {area["key"]: area for area in response.json()["areas"]}


def test_an_area_without_fresh_data_has_no_recommendation_and_says_how_much_is_known(
    client: TestClient, keys: dict[Role, str]
) -> None:
    empty = areas(client, keys)
    assert all(area["recommended"]["level"] is None and not area["differs"] for area in empty.values())
    assert empty["halsua"]["coverage"] == {"current": 0, "total": 13}  # its own 6, the region's 7
    assert empty["region"]["coverage"]["total"] == 7 + 8 * 6  # the region's and every municipality's

    observe(client, keys, "power_outage_customers", "kokkola", 2)  # fresh, below the threshold
    observe(client, keys, "water_supply_disruption", "halsua", 0, minutes_ago=7 * 60)  # stale (6 h window)
    known = areas(client, keys)
    assert known["kokkola"]["recommended"]["level"] == "perusvalmius"
    assert known["kokkola"]["coverage"] == {"current": 1, "total": 13}
    assert known["Kokkola"]["recommended"]["level"] == "perusvalmius"  # its municipality is known
    assert known["region"]["coverage"]["current"] == 1
    assert known["halsua"]["recommended"]["level"] is None  # a stale value is no data
    assert known["halsua"]["coverage"]["current"] == 0
    assert known["halsua"]["decided"]["level"] == "perusvalmius"  # the decided level stays as decided


def test_the_cli_shows_no_data_and_coverage_wholly_in_one_language(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    from situation.cli import situation_app

    observe(client, keys, "power_outage_customers", "kokkola", 2)
    english = runner.invoke(situation_app, ["show"], env={"COLUMNS": "250"})
    assert english.exit_code == 0, english.output
    assert "no data" in english.output and "1/13" in english.output and "basic readiness" in english.output
    for finnish in ("alue", "päätetty", "suositus", "ei tietoa", "perusvalmius", "Keski-Pohjanmaa"):
        assert finnish not in english.output, finnish
    finnish = runner.invoke(situation_app, ["show", "--language", "fi"], env={"COLUMNS": "250"})
    assert "ei tietoa" in finnish.output and "ajan tasalla" in finnish.output and "no data" not in finnish.output
    swedish = runner.invoke(situation_app, ["show", "--language", "sv"], env={"COLUMNS": "250"})
    assert "uppgifter saknas" in swedish.output and "Karleby" in swedish.output and "Kokkola" not in swedish.output


def test_the_page_shows_no_data_coverage_and_who_decided_and_refreshes_itself(
    client: TestClient, keys: dict[Role, str], accounts: dict[Role, int]
) -> None:
    sign_in(client, Role.viewer)
    page = client.get("/").text
    assert 'data-live="/situation/live"' in page
    assert "ei tietoa" in page and "0/13 indikaattoria ajan tasalla" in page
    assert "level-unknown" in page and "level-perusvalmius" in page  # the decided level; never a green guess

    decided = client.post(
        "/api/v1/readiness/decisions",
        json={"area": "kokkola", "level": "tehostettu_valmius", "reason": "Sähkökatko laajenee"},
        headers=auth(keys[Role.operator]),
    )
    assert decided.status_code == 201, decided.text
    live = client.get("/situation/live", headers={"x-requested-with": "fetch"}).text  # what the page fetches
    kokkola = live.split('id="tile-kokkola"')[1].split("</article>")[0]
    assert "tehostettu valmius" in kokkola and "Sähkökatko laajenee" in kokkola
    assert "test operator" in kokkola  # who decided, by name, and when in Finnish time
    assert "klo" in kokkola


@pytest.fixture
def operator_page(client: TestClient, database: Database, accounts: dict[Role, int]) -> Iterator[str]:
    load_demo_roster()
    yield sign_in(client, Role.operator)


def test_an_operator_decides_a_level_on_the_page_after_seeing_whom_it_alerts(
    client: TestClient, database: Database, queue: InProcessQueue, operator_page: str
) -> None:
    token = operator_page
    form = client.get("/situation/Kokkola/decide")
    assert form.status_code == 200 and "Valmiustasopäätös: Kokkola" in form.text
    assert client.get("/situation/nowhere/decide").status_code == 404

    no_reason = client.post(
        "/situation/Kokkola/decide", data={"csrf_token": token, "level": "tehostettu_valmius", "reason": " "}
    )
    assert no_reason.status_code == 422 and "Kirjoita päätöksen perustelu." in no_reason.text

    preview = client.post(
        "/situation/Kokkola/decide",
        data={"csrf_token": token, "level": "tehostettu_valmius", "reason": "Myrsky", "drill_id": ""},
    )
    assert preview.status_code == 200, preview.text
    consequences = preview.text.split('id="consequences"')[1].split("</section>")[0]
    assert "Kokkola: häiriötilanteiden johtoryhmä" in consequences and "valmiusjohtoryhmä" in consequences
    assert "henkilöä" in consequences
    with database.session() as session:
        assert session.scalars(select(ReadinessDecision)).all() == []  # nothing is decided before the confirmation

    confirmed = client.post(
        "/situation/Kokkola/decide/confirm",
        data={"csrf_token": token, "level": "tehostettu_valmius", "reason": "Myrsky", "drill_id": ""},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303
    assert queue.join()
    with database.session() as session:
        decision = session.scalars(select(ReadinessDecision)).one()
        assert (decision.area_key, decision.level, decision.reason) == ("Kokkola", "tehostettu_valmius", "Myrsky")
        assert decision.decided_by.startswith("web:user:") and decision.drill_id is None
        alert = session.scalars(select(Alert)).one()  # the reaction rule's alert went out
        assert not alert.exercise


def test_an_exercise_decision_on_the_page_works_as_in_the_api(
    client: TestClient, keys: dict[Role, str], database: Database, queue: InProcessQueue, operator_page: str
) -> None:
    token = operator_page
    roster = make_roster(database)
    drill = plan(
        client,
        keys,
        name={"fi": "Valmiusharjoitus", "sv": "Beredskapsövning"},
        kind="exercise",
        targets={"groups": [roster.group_id]},
    )
    act(client, keys, f"{drill['id']}/start")
    data = {"csrf_token": token, "level": "taysvalmius", "reason": "Harjoitus", "drill_id": str(drill["id"])}
    preview = client.post("/situation/Kokkola/decide", data=data)
    assert preview.status_code == 200, preview.text
    assert "HARJOITUS: harjoituspäätös harjoituksessa Valmiusharjoitus" in preview.text
    assert "harjoitushälytyksen harjoituksen Valmiusharjoitus vastaanottajille: 4 henkilöä" in preview.text
    confirmed = client.post("/situation/Kokkola/decide/confirm", data=data, follow_redirects=False)
    assert confirmed.headers["location"] == f"/drills/{drill['id']}"
    assert queue.join()
    picture = client.get("/api/v1/situation", headers=auth(keys[Role.viewer])).json()
    real = next(area for area in picture["areas"] if area["key"] == "Kokkola")
    assert real["decided"]["level"] == "perusvalmius"  # an exercise decision never changes the real level
    with database.session() as session:
        decision = session.scalars(select(ReadinessDecision)).one()
        assert decision.drill_id == drill["id"]
        assert session.scalars(select(Alert).where(Alert.exercise.is_(True))).all()

    act(client, keys, f"{drill['id']}/end")
    ended = client.post("/situation/Kokkola/decide", data=data)
    assert ended.status_code == 422 and "Harjoitus ei ole käynnissä" in ended.text


def test_the_demo_picture_is_alive(client: TestClient, keys: dict[Role, str], database: Database) -> None:
    from situation.demo import feed_demo_picture, load_demo_picture

    now = utcnow()
    assert "loaded" in load_demo_picture(now=now)
    assert load_demo_picture(now=now) == "demo picture already loaded"
    picture = areas(client, keys)
    region = picture["region"]
    assert region["coverage"]["current"] > region["coverage"]["total"] / 2  # most indicators observed
    stale = [i for area in picture.values() for i in area["indicators"] if i["stale"]]
    assert {(i["indicator"], i["area"]) for i in stale} == {("water_supply_disruption", "toholampi")}
    above = [key for key, area in picture.items() if area["differs"]]
    assert "region" in above and region["recommended"]["level"] == "tehostettu_valmius"
    assert region["decided"]["level"] == "perusvalmius"
    valley = picture["Perhonjokilaakso"]["decided"]
    assert valley["level"] == "tehostettu_valmius" and "tuulivaroitus" in valley["reason"]
    assert any(p["indicator"] == "power_outage_customers" for p in picture["kokkola"]["anticipation"])
    assert picture["perho"]["status_report"]["key_services_running"] is False

    with database.session() as session:
        before = session.query(Observation).count()
    assert feed_demo_picture(now=now + timedelta(minutes=45)) > 0  # two more 20-minute points
    assert feed_demo_picture(now=now + timedelta(minutes=45)) == 0  # each point once
    with database.session() as session:
        assert session.query(Observation).count() > before
