"""The alert as CAP 1.2, validated against the OASIS schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import xmlschema
from fastapi.testclient import TestClient
from lxml import etree

from alueturva.auth.models import Role
from alueturva.cap import CAP_SCHEMA_PATH as SHIPPED_SCHEMA
from alueturva.db import Database
from alueturva.queue import InProcessQueue
from tests.conftest import auth
from tests.support.roster import Roster, make_roster

SHARED_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "cap12.xsd"
NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}


@pytest.fixture
def roster(database: Database) -> Roster:
    return make_roster(database)


def _schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SHARED_SCHEMA if SHARED_SCHEMA.exists() else SHIPPED_SCHEMA))


def _create(client: TestClient, keys: dict[Role, str], roster: Roster, **fields: object) -> int:
    body = {"title": "Myrsky & tulva <varoitus>", "message": "Kokoontuminen.", "targets": {"areas": ["Kokkola"]}}
    body.update(fields)
    response = client.post("/api/v1/alerts", json=body, headers=auth(keys[Role.operator]))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_an_exercise_alert_is_valid_cap_with_status_exercise_and_one_info_per_language(
    client: TestClient, keys: dict[Role, str], roster: Roster, queue: InProcessQueue
) -> None:
    alert_id = _create(
        client,
        keys,
        roster,
        exercise=True,
        title={"fi": "Myrsky & tulva <varoitus>", "sv": "Storm & flod", "en": "Storm & flood"},
        message={"fi": "Kokoontuminen.", "sv": "Samling.", "en": "Meeting."},
        response_options=[{"fi": "Tulen", "sv": "Jag kommer", "en": "Coming"}, {"fi": "En", "sv": "Nej", "en": "No"}],
    )
    response = client.get(f"/api/v1/alerts/{alert_id}/cap", headers=auth(keys[Role.viewer]))
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/cap+xml")
    _schema().validate(response.content)
    root = etree.fromstring(response.content)
    assert root.findtext("cap:status", namespaces=NS) == "Exercise"
    assert root.findtext("cap:msgType", namespaces=NS) == "Alert"
    assert root.findtext("cap:sent", namespaces=NS).endswith("-00:00")
    infos = root.findall("cap:info", namespaces=NS)
    assert [info.findtext("cap:language", namespaces=NS) for info in infos] == ["fi-FI", "sv-FI", "en-GB"]
    headlines = [info.findtext("cap:headline", namespaces=NS) for info in infos]
    assert headlines == ["HARJOITUS – Myrsky & tulva <varoitus>", "ÖVNING – Storm & flod", "EXERCISE – Storm & flood"]
    assert [info.findtext("cap:description", namespaces=NS) for info in infos] == [
        "Kokoontuminen.",
        "Samling.",
        "Meeting.",
    ]
    assert infos[1].findtext("cap:parameter/cap:value", namespaces=NS) == "Jag kommer"
    assert infos[1].findtext("cap:area/cap:areaDesc", namespaces=NS) == "Karleby"


def test_an_alert_written_in_finnish_only_has_only_a_finnish_info(
    client: TestClient, keys: dict[Role, str], roster: Roster, queue: InProcessQueue
) -> None:
    alert_id = _create(client, keys, roster)
    content = client.get(f"/api/v1/alerts/{alert_id}/cap", headers=auth(keys[Role.viewer])).content
    _schema().validate(content)
    infos = etree.fromstring(content).findall("cap:info", namespaces=NS)
    assert [info.findtext("cap:language", namespaces=NS) for info in infos] == ["fi-FI"]


def test_a_real_alert_is_actual_and_a_cancelled_one_a_cancel_referring_to_it(
    client: TestClient, keys: dict[Role, str], roster: Roster, queue: InProcessQueue
) -> None:
    alert_id = _create(client, keys, roster)
    url = f"/api/v1/alerts/{alert_id}/cap"
    first = etree.fromstring(client.get(url, headers=auth(keys[Role.viewer])).content)
    assert first.findtext("cap:status", namespaces=NS) == "Actual"
    assert client.post(f"/api/v1/alerts/{alert_id}/cancel", headers=auth(keys[Role.operator])).status_code == 200
    content = client.get(url, headers=auth(keys[Role.viewer])).content
    _schema().validate(content)
    cancel = etree.fromstring(content)
    assert cancel.findtext("cap:msgType", namespaces=NS) == "Cancel"
    identifier = first.findtext("cap:identifier", namespaces=NS)
    assert cancel.findtext("cap:references", namespaces=NS).split(",")[1] == identifier


def test_cap_needs_a_key_and_an_existing_alert(client: TestClient, keys: dict[Role, str]) -> None:
    assert client.get("/api/v1/alerts/1/cap").status_code == 401
    assert client.get("/api/v1/alerts/12345/cap", headers=auth(keys[Role.viewer])).status_code == 404


def test_the_shipped_schema_is_the_oasis_one() -> None:
    if SHARED_SCHEMA.exists():
        assert SHIPPED_SCHEMA.read_bytes() == SHARED_SCHEMA.read_bytes()
    assert _schema().target_namespace == NS["cap"]
