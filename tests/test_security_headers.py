"""Headers every answer carries (issue 18): HSTS when people reach the service at an https address (never over a
plain-HTTP one, where it would mean nothing), and the API's HTML report with the console's Content-Security-Policy
(a self-contained page that runs no script)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from alueturva.auth.models import Role
from alueturva.db import Database
from alueturva.i18n import helsinki
from alueturva.queue import InProcessQueue
from alueturva.settings import get_settings
from contacts.demo import load_demo_roster
from drills.demo import load_demo_drill
from drills.models import Drill
from tests.conftest import auth
from tests.support.web import sign_in


@pytest.fixture
def https_client(database: Database, queue: InProcessQueue, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from alueturva.app.http import create_app

    monkeypatch.setenv("ALUETURVA_PUBLIC_BASE_URL", "https://alueturva.example.fi")
    get_settings.cache_clear()
    with TestClient(create_app(), base_url="https://alueturva.example.fi") as client:
        yield client


def test_every_answer_carries_hsts_when_the_public_address_is_https(
    https_client: TestClient, client: TestClient, keys: dict[Role, str]
) -> None:
    answers = [
        https_client.get("/healthz"),
        https_client.get("/login"),
        https_client.get("/api/v1/people"),  # refused by the key check, outside every route
        https_client.get("/api/v1/people", headers=auth(keys[Role.viewer])),
        https_client.get("/ack/forged"),
    ]
    assert [answer.headers.get("Strict-Transport-Security") for answer in answers] == ["max-age=31536000"] * 5


def test_no_hsts_over_a_plain_http_address(client: TestClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_the_api_s_html_report_gets_the_console_s_policy(
    client: TestClient, database: Database, keys: dict[Role, str], accounts: dict[Role, int]
) -> None:
    load_demo_roster()
    load_demo_drill()
    with database.session() as session:
        drill, started = session.execute(select(Drill.id, Drill.started_at)).one()
    assert started is not None
    api = client.get(f"/api/v1/drills/{drill}/report", params={"format": "html"}, headers=auth(keys[Role.viewer]))
    followup = client.get(
        "/api/v1/followup", params={"year": helsinki(started).year, "format": "html"}, headers=auth(keys[Role.viewer])
    )
    sign_in(client, Role.viewer)
    console = client.get(f"/drills/{drill}/report.html")
    assert api.status_code == followup.status_code == console.status_code == 200
    policy = console.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert api.headers["Content-Security-Policy"] == followup.headers["Content-Security-Policy"] == policy
    assert (
        "Content-Security-Policy" not in client.get(f"/api/v1/drills/{drill}", headers=auth(keys[Role.viewer])).headers
    )
