"""CAP 1.2 warnings (FMI style) as observations, through the API and `alueturva situation import-cap`."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from alueturva.auth.models import Role
from alueturva.db import Database, utcnow
from situation.models import Observation
from tests.conftest import auth

DATA = Path(__file__).parent / "data" / "situation"
CLI = [str(Path(sys.executable).parent / "alueturva")]


def cap_file(name: str, *, expires_in: timedelta = timedelta(hours=12)) -> bytes:
    """A test CAP file with its sent and expires times set around now (CAP wants +00:00, not Z)."""
    now = utcnow().replace(microsecond=0)
    text = (DATA / name).read_text(encoding="utf-8")
    text = text.replace("SENT_AT", (now - timedelta(minutes=5)).isoformat())
    return text.replace("EXPIRES_AT", (now + expires_in).isoformat()).encode()


def import_cap(client: TestClient, keys: dict[Role, str], document: bytes) -> tuple[int, dict]:
    headers = auth(keys[Role.reporter]) | {"Content-Type": "application/xml"}
    response = client.post("/api/v1/observations/cap", content=document, headers=headers)
    return response.status_code, response.json()


def weather(client: TestClient, keys: dict[Role, str]) -> dict[str, float | None]:
    areas = client.get("/api/v1/situation", headers=auth(keys[Role.viewer])).json()["areas"]
    values = {}
    for area in areas:
        for item in area["indicators"]:
            if item["indicator"] == "weather_warning" and item["area"] == area["key"]:
                values[area["key"]] = item["value"]
    return values


def stored(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Observation)) or 0


def test_an_orange_warning_becomes_severity_two_for_the_matching_municipalities(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    status, result = import_cap(client, keys, cap_file("fmi_wind_orange.xml"))
    assert status == 200, result
    assert result["stored"] == 2
    assert result["matched_areas"] == ["kannus", "kokkola"]
    assert result["unmatched_areas"] == ["Oulu"]
    values = weather(client, keys)
    assert values["kokkola"] == 2 and values["kannus"] == 2 and values["perho"] is None
    areas = {a["key"]: a for a in client.get("/api/v1/situation", headers=auth(keys[Role.viewer])).json()["areas"]}
    assert areas["kokkola"]["recommended"]["level"] == "tehostettu_valmius"
    assert areas["kokkola"]["recommended"]["reasons"][0]["indicator"] == "weather_warning"

    again_status, again = import_cap(client, keys, cap_file("fmi_wind_orange.xml"))
    assert again_status == 200 and again["stored"] == 0 and again["duplicates"] == 2
    assert stored(database) == 2


def test_a_regional_warning_covers_every_municipality(client: TestClient, keys: dict[Role, str]) -> None:
    status, result = import_cap(client, keys, cap_file("fmi_region_yellow.xml"))
    assert status == 200, result
    assert len(result["matched_areas"]) == 8
    assert set(weather(client, keys).values()) == {1}


def test_an_expired_warning_means_no_warning(client: TestClient, keys: dict[Role, str]) -> None:
    status, result = import_cap(client, keys, cap_file("fmi_wind_orange.xml", expires_in=timedelta(minutes=-1)))
    assert status == 200, result
    assert weather(client, keys)["kokkola"] == 0


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("cap_truncated.xml", "not well-formed XML"),
        ("cap_invalid_severity.xml", "not valid CAP 1.2"),
        ("cap_test_status.xml", "status 'Test'"),
    ],
)
def test_a_malformed_or_non_actual_cap_file_is_refused_and_nothing_is_stored(
    client: TestClient, keys: dict[Role, str], database: Database, name: str, problem: str
) -> None:
    status, result = import_cap(client, keys, (DATA / name).read_bytes())
    assert status == 422
    assert problem in result["detail"]
    assert stored(database) == 0


def test_a_cancel_message_ends_the_warning(client: TestClient, keys: dict[Role, str]) -> None:
    assert import_cap(client, keys, cap_file("fmi_wind_orange.xml"))[0] == 200
    assert weather(client, keys)["kokkola"] == 2
    cancel = cap_file("fmi_wind_orange.xml").replace(b"<msgType>Alert</msgType>", b"<msgType>Cancel</msgType>")
    cancel = cancel.replace(b"test.wind.1</identifier>", b"test.wind.1.cancel</identifier>")
    status, result = import_cap(client, keys, cancel)
    assert status == 200 and result["stored"] == 2, result
    assert weather(client, keys)["kokkola"] == 0


def test_entities_are_not_expanded(client: TestClient, keys: dict[Role, str], database: Database) -> None:
    document = cap_file("fmi_wind_orange.xml").replace(
        b'<?xml version="1.0" encoding="UTF-8"?>',
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE alert [<!ENTITY secret SYSTEM "file:///etc/passwd">]>',
    )
    document = document.replace(b"<sender>cap-feed@fmi.fi</sender>", b"<sender>&secret;</sender>")
    status, result = import_cap(client, keys, document)
    assert status == 422 and "DOCTYPE" in result["detail"]
    assert stored(database) == 0


def test_other_xml_and_an_empty_body_are_refused(client: TestClient, keys: dict[Role, str]) -> None:
    status, result = import_cap(client, keys, b"<rss><channel/></rss>")
    assert status == 422 and "not valid CAP 1.2" in result["detail"]
    status, result = import_cap(client, keys, b"")
    assert status == 422 and "empty" in result["detail"]
    response = client.post("/api/v1/observations/cap", content=b"<x/>", headers=auth(keys[Role.viewer]))
    assert response.status_code == 403


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"ALUETURVA_DATABASE_URL": database_url}
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=env, timeout=120, cwd=Path(__file__).parents[1]
    )


def test_the_cli_imports_a_cap_file_and_reports_a_malformed_one(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    good = tmp_path / "warning.xml"
    good.write_bytes(cap_file("fmi_wind_orange.xml"))
    result = run_cli(database_url, "situation", "import-cap", str(good))
    assert result.returncode == 0, result.stderr
    assert "2 stored" in result.stdout and "kannus, kokkola" in result.stdout
    assert stored(database) == 2

    result = run_cli(database_url, "situation", "import-cap", str(DATA / "cap_invalid_severity.xml"))
    assert result.returncode == 1
    assert "not valid CAP 1.2" in result.stderr
    result = run_cli(database_url, "situation", "import-cap", str(tmp_path / "missing.xml"))
    assert result.returncode == 1 and "cannot read" in result.stderr
    assert stored(database) == 2


def test_a_file_of_tens_of_thousands_of_unmatched_areas_is_imported_whole(
    client: TestClient, keys: dict[Role, str]
) -> None:
    """Just under the 2 MB cap: 48,000 areas that are none of ours (each named twice) and Kokkola. Every step after
    the schema check is linear: a list's membership test made this quadratic (54,000 areas took 20.9 s of CPU);
    at this size a quadratic step cannot go unnoticed."""
    areas = "".join(f"<area><areaDesc>A{n % 24_000}</areaDesc></area>" for n in range(48_000))
    document = cap_file("fmi_wind_orange.xml").replace(b"<area>", areas.encode() + b"<area>", 1)
    assert len(document) < 2 * 1024 * 1024
    status, result = import_cap(client, keys, document)
    assert status == 200, str(result)[:500]
    assert result["matched_areas"] == ["kannus", "kokkola"]
    assert result["unmatched_areas"] == [f"A{n}" for n in range(24_000)] + ["Oulu"]
