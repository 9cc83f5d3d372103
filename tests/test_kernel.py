from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError, StatementError

from alueturva.audit.models import AuditEvent
from alueturva.audit.service import record
from alueturva.auth.models import Role
from alueturva.db import Database
from alueturva.i18n import helsinki
from tests.conftest import auth


def _log_as_the_service(request: pytest.FixtureRequest) -> None:
    """The service's JSON log from here on (in the test itself: capsys holds stderr only while it runs); the root
    logger is put back after the test."""
    from alueturva.logging import configure_logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level

    def put_back() -> None:
        root.handlers = handlers
        root.setLevel(level)

    configure_logging()
    request.addfinalizer(put_back)


def _json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]


def test_healthz_reports_database_and_queue(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "queue": "ok"}


def test_metrics_are_exposed_to_loopback_clients(client: TestClient) -> None:
    client.get("/healthz")
    with TestClient(client.app, client=("127.0.0.1", 50000)) as local:
        body = local.get("/metrics").text
    assert "alueturva_http_requests_total" in body


def test_each_request_is_logged_and_counted_by_its_route_template(
    client: TestClient, keys: dict[Role, str], capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    _log_as_the_service(request)
    client.get("/api/v1/people/999999", headers=auth(keys[Role.admin]))
    client.get("/no/such/page")
    client.get("/api/v1/people")  # refused before any route: no key
    lines = _json_lines(capsys)
    logged = [
        (line["method"], line["route"], line["status"], line["actor"]) for line in lines if line["message"] == "request"
    ]
    assert logged[0][:3] == ("GET", "/api/v1/people/{person_id}", 404) and logged[0][3].startswith("apikey:")
    assert logged[1:] == [("GET", "unmatched", 404, None), ("GET", "unmatched", 401, None)]
    assert all(isinstance(line["ms"], float) for line in lines if line["message"] == "request")
    with TestClient(client.app, client=("127.0.0.1", 50000)) as local:
        body = local.get("/metrics").text
    assert 'alueturva_http_requests_total{method="GET",route="/api/v1/people/{person_id}",status="404"}' in body
    assert 'alueturva_http_request_seconds_count{method="GET",route="unmatched"}' in body


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert "/api/v1/audit" in client.get("/openapi.json").json()["paths"]


def test_naive_datetimes_are_refused(database: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime refused"), database.session() as session:
        session.add(AuditEvent(at=datetime(2025, 1, 1), actor="t", action="x", entity_type="y", details={}))
        session.flush()


def test_datetimes_come_back_as_utc(database: Database) -> None:
    helsinki = timezone(timedelta(hours=3))
    with database.session() as session:
        session.add(AuditEvent(at=datetime(2025, 6, 1, 3, 0, tzinfo=helsinki), actor="t", action="x", entity_type="y"))
    with database.session() as session:
        stored = session.query(AuditEvent).one().at
    assert stored == datetime(2025, 6, 1, 0, 0, tzinfo=UTC)
    assert stored.utcoffset() == timedelta(0)


def test_audit_log_refuses_update_and_delete_in_the_database(database: Database) -> None:
    with database.session() as session:
        record(session, actor="t", action="x", entity_type="y")
    for statement in ("UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"):
        with pytest.raises(Exception, match="append-only"), database.session() as session:
            session.execute(text(statement))
    with database.session() as session:
        assert session.query(AuditEvent).one().actor == "t"


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc"])
def test_audit_needs_a_valid_key(client: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/audit", headers=headers)
    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.parametrize("role", [Role.operator, Role.reporter, Role.viewer])
def test_audit_is_for_admins_only(client: TestClient, keys: dict[Role, str], role: Role) -> None:
    response = client.get("/api/v1/audit", headers=auth(keys[role]))
    assert response.status_code == 403
    assert "admin" in response.json()["detail"]


def test_key_creation_is_audited_and_filterable(client: TestClient, keys: dict[Role, str]) -> None:
    response = client.get("/api/v1/audit", params={"entity_type": "api_key"}, headers=auth(keys[Role.admin]))
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 4
    assert {item["action"] for item in body["items"]} == {"apikey.create"}
    assert all(item["actor"] == "system" for item in body["items"])
    later = client.get("/api/v1/audit", params={"since": "2999-01-01T00:00:00Z"}, headers=auth(keys[Role.admin])).json()
    assert later == {"items": [], "total": 0}


def test_audit_reads_times_typed_without_a_zone_as_finnish_time(client: TestClient, keys: dict[Role, str]) -> None:
    admin = auth(keys[Role.admin])
    first = client.get("/api/v1/audit", headers=admin).json()["items"][-1]
    at = datetime.fromisoformat(first["at"])

    def wall_clock(moment: datetime) -> str:  # as a person in Finland would type it
        return helsinki(moment).replace(tzinfo=None).isoformat(timespec="seconds")

    def total(**params: str) -> int:
        response = client.get("/api/v1/audit", params=params, headers=admin)
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    assert total(since=wall_clock(at - timedelta(seconds=1))) == 4
    assert total(since=wall_clock(at + timedelta(minutes=5))) == 0
    assert total(since=helsinki(at).date().isoformat()) == 4  # a date is its start in Finland ...
    assert total(until=(helsinki(at).date() - timedelta(days=1)).isoformat()) == 0  # ... or its end
    assert total(until=helsinki(at).date().isoformat()) == 4
    for typed, problem in [("2025-10-26T03:30", "happens twice"), ("eilen", "not a date or time")]:
        response = client.get("/api/v1/audit", params={"since": typed}, headers=admin)
        assert response.status_code == 422 and problem in response.text, response.text


def test_revoked_key_is_refused(client: TestClient, keys: dict[Role, str]) -> None:
    admin = auth(keys[Role.admin])
    created = client.post("/api/v1/apikeys", json={"name": "temp", "role": "viewer"}, headers=admin).json()
    assert client.get("/api/v1/organisations", headers=auth(created["key"])).status_code in (200, 404)
    assert client.post(f"/api/v1/apikeys/{created['id']}/revoke", headers=admin).status_code == 200
    assert client.get("/api/v1/audit", headers=auth(created["key"])).status_code == 401


def test_foreign_keys_are_enforced(database: Database) -> None:
    from contacts.models import Person

    with pytest.raises(IntegrityError), database.session() as session:
        session.add(Person(name="Orphan", organisation_id=999_999))
        session.flush()


def test_migrations_go_down_and_up_again(database_url: str) -> None:
    from alembic import command

    from alueturva.migrate import alembic_config, upgrade

    config = alembic_config(database_url)
    command.downgrade(config, "base")
    db = Database(database_url)
    with db.engine.connect() as connection:
        assert "people" not in inspect(connection).get_table_names()
    db.dispose()
    upgrade(database_url)
    db = Database(database_url)
    with db.engine.connect() as connection:
        assert {"people", "audit_events", "api_keys"} <= set(inspect(connection).get_table_names())
    db.dispose()


def test_logs_are_json_lines_with_ids_not_personal_data(
    client: TestClient, keys: dict[Role, str], capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    _log_as_the_service(request)
    organisation = client.get("/api/v1/organisations", headers=auth(keys[Role.admin])).json()["items"][0]
    client.post(
        "/api/v1/people",
        json={"name": "Salainen Henkilö", "organisation_id": organisation["id"], "mobile": "0401234567"},
        headers=auth(keys[Role.admin]),
    )
    lines = _json_lines(capsys)
    requests = [line for line in lines if line["message"] == "request"]
    assert requests and requests[-1]["route"] == "/api/v1/people" and requests[-1]["status"] == 201
    assert requests[-1]["actor"].startswith("apikey:")
    text = json.dumps(lines)
    assert "0401234567" not in text and "+358401234567" not in text and "Salainen" not in text
    assert keys[Role.admin] not in text
