"""Writing and approving a drill's report in the console: the narrative per language, the publicity marking and the
distribution list through the same use cases as the API; a refused approval says why and changes nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from alueturva.auth.models import Role
from alueturva.db import Database
from loopback.twilio_server import FakeTwilio
from tests.conftest import auth
from tests.support.drills import act, plan
from tests.support.roster import make_roster
from tests.support.web import sign_in


def _report(client: TestClient, keys: dict[Role, str], drill_id: int) -> Any:
    response = client.get(f"/api/v1/drills/{drill_id}/report", headers=auth(keys[Role.viewer]))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_report_is_written_and_approved_in_the_console(
    twilio_settings: FakeTwilio,
    client: TestClient,
    keys: dict[Role, str],
    database: Database,
    accounts: dict[Role, int],
) -> None:
    roster = make_roster(database)
    drill = plan(
        client,
        keys,
        name="Hälytyskoe",
        kind="communication_test",
        targets={"groups": [roster.group_id]},
        channels=["sms"],
        title="Yhteyskoe",
        message="Kuittaa.",
    )
    act(client, keys, f"{drill['id']}/start")
    act(client, keys, f"{drill['id']}/end")
    path = f"/drills/{drill['id']}/report/write"

    sign_in(client, Role.viewer)
    assert client.get(path).status_code == 403
    token = sign_in(client, Role.operator)
    page = client.get(path)
    assert page.status_code == 200 and "Tiivistelmä" in page.text and "Tapahtumien kulku" in page.text
    assert "Harjoitus alkoi." in page.text and "Versio 1 · LUONNOS" in page.text
    assert path in client.get(f"/drills/{drill['id']}").text

    form = {"csrf_token": token, "summary_fi": "Koe onnistui.", "summary_sv": "Provet lyckades.", "purpose_fi": "Testi"}
    assert client.post(path, data=form, follow_redirects=False).status_code == 303
    report = _report(client, keys, drill["id"])
    assert report["sections"]["summary"] == {"fi": "Koe onnistui.", "sv": "Provet lyckades."}

    approve = f"/drills/{drill['id']}/report/approve"
    refused = client.post(approve, data={"csrf_token": token})
    assert refused.status_code == 422 and "Valitse julkisuusmerkintä" in refused.text
    assert _report(client, keys, drill["id"])["approval"]["state"] == "draft"
    assert client.post(approve, data={}).status_code == 403  # no CSRF token

    form |= {"marking": "public", "distribution": "Kuntien johtoryhmät\r\n\r\nSoite\r\n"}
    assert client.post(path, data=form | {"marking": "nonsense"}).status_code == 422
    assert client.post(path, data=form, follow_redirects=False).status_code == 303
    assert client.post(approve, data={"csrf_token": token}, follow_redirects=False).status_code == 303
    approval = _report(client, keys, drill["id"])["approval"]
    assert (approval["state"], approval["version"], approval["marking"]) == ("approved", 1, "public")
    assert approval["distribution"] == ["Kuntien johtoryhmät", "Soite"] and approval["approved_by"] == "Operator Person"
    again = client.post(approve, data={"csrf_token": token})
    assert again.status_code == 409 and "ei ole muutoksia" in again.text
