"""Request size and cost before authentication (issue 14): the API key is checked before a body is read, bodies are
capped per route while they stream in (413), the CAP import does bounded work, 422 answers do not echo huge inputs,
an absent database is a 503 with a clear body, and /metrics is not open to the world."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from alueturva.auth.models import Role
from alueturva.db import Database, set_database
from alueturva.settings import get_settings
from loopback.processes import ApiServer, service_env
from tests.conftest import BACKEND, auth

MB = 1024 * 1024


@pytest.fixture
def api_server(database: Database, tmp_path: Path) -> Iterator[ApiServer]:
    """A real `alueturva serve` process (uvicorn) on this test's database."""
    server = ApiServer(service_env(), tmp_path / "api.log").start()
    yield server
    server.terminate()


def _raw_request(server: ApiServer, head: str, body_part: bytes, *, chunked: bool = False) -> str:
    """Send the head and part of a body that is announced (or streamed) as much larger, then read the answer's
    status line without ever sending the rest: a server that reads the whole body first never answers."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as connection:
        connection.sendall(head.encode() + b"\r\n")
        if chunked:
            for offset in range(0, len(body_part), 64 * 1024):
                chunk = body_part[offset : offset + 64 * 1024]
                try:
                    connection.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    break
        else:
            connection.sendall(body_part)
        try:
            answer = connection.recv(65536).decode("latin-1")
        except TimeoutError:
            pytest.fail("no answer: the server waits for the whole body")
    return answer.split("\r\n", 1)[0]


def test_an_unauthenticated_upload_is_refused_with_401_before_its_body_is_read(
    api_server: ApiServer, keys: dict[Role, str]
) -> None:
    head = (
        "POST /api/v1/rosters/import HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
        f"Content-Length: {500 * 1024 * MB}\r\n"
    )
    assert " 401 " in _raw_request(api_server, head, b"a;b\r\n" * 10_000)
    too_large = head + f"Authorization: Bearer {keys[Role.admin]}\r\n"
    assert " 413 " in _raw_request(api_server, too_large, b"a;b\r\n" * 10_000)


def test_a_streamed_body_is_cut_at_the_cap_with_413(api_server: ApiServer, keys: dict[Role, str]) -> None:
    head = (
        "POST /api/v1/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Transfer-Encoding: chunked\r\nAuthorization: Bearer {keys[Role.operator]}\r\n"
    )
    assert " 413 " in _raw_request(api_server, head, b" " * (3 * MB), chunked=True)


def test_an_unauthenticated_json_post_gets_401_not_422(client: TestClient) -> None:
    response = client.post("/api/v1/alerts", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 401
    assert client.post("/api/v1/alerts", json={"title": 1}).status_code == 401


@pytest.mark.parametrize(
    ("path", "role", "content_type", "limit"),
    [
        ("/api/v1/alerts", Role.operator, "application/json", 1 * MB),
        ("/api/v1/rosters/import", Role.admin, "text/csv", 5 * MB),
        ("/api/v1/observations/cap", Role.reporter, "application/xml", 2 * MB),
    ],
)
def test_each_route_has_its_body_cap(
    client: TestClient, keys: dict[Role, str], path: str, role: Role, content_type: str, limit: int
) -> None:
    headers = {**auth(keys[role]), "Content-Type": content_type}
    refused = client.post(path, content=b" " * (limit + 1), headers=headers)
    assert refused.status_code == 413
    assert f"{limit}" in refused.json()["detail"]
    assert client.post(path, content=b" " * (limit - 1), headers=headers).status_code != 413


def test_a_422_does_not_echo_a_huge_input(client: TestClient, keys: dict[Role, str]) -> None:
    body = {"title": "T", "message": "x" * 900_000, "targets": {"people": [1]}}
    response = client.post("/api/v1/alerts", json=body, headers=auth(keys[Role.operator]))
    assert response.status_code == 422
    assert len(response.content) < 5_000
    assert "message" in json.dumps(response.json()["detail"])


@pytest.mark.timeout(60)  # a hang guard: the quadratic validator took 25 s for 64k elements, > 29 min for 1.8 MB
@pytest.mark.parametrize("shape", ["flat", "deep"])
def test_a_pathological_cap_file_is_refused_without_long_work(
    client: TestClient, keys: dict[Role, str], shape: str
) -> None:
    namespace = "urn:oasis:names:tc:emergency:cap:1.2"
    inner = "<parameter/>" * 150_000 if shape == "flat" else "<info>" * 5_000 + "</info>" * 5_000
    document = f'<alert xmlns="{namespace}">{inner}</alert>'.encode()
    assert len(document) < 2 * MB
    headers = {**auth(keys[Role.reporter]), "Content-Type": "application/xml"}
    response = client.post("/api/v1/observations/cap", content=document, headers=headers)
    assert response.status_code == 422
    assert len(response.content) < 5_000


def test_the_api_answers_503_with_a_clear_body_when_the_database_is_away(
    client: TestClient, keys: dict[Role, str], tmp_path: Path
) -> None:
    unreachable = (
        f"sqlite:///{tmp_path}/no/such/dir/alueturva.db"
        if BACKEND == "sqlite"
        else "postgresql+psycopg://postgres@127.0.0.1:1/alueturva"
    )
    set_database(Database(unreachable))
    for response in (
        client.get("/api/v1/alerts", headers=auth(keys[Role.viewer])),
        client.post("/api/v1/alerts", json={}, headers=auth(keys[Role.operator])),
    ):
        assert response.status_code == 503
        assert "database" in response.json()["detail"]
        assert response.headers["Retry-After"]
    assert client.get("/healthz").status_code == 503


def test_metrics_answer_loopback_clients_or_a_bearer_token(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from alueturva.app.http import create_app

    app = create_app()
    with TestClient(app, client=("203.0.113.7", 40000)) as outside:
        assert outside.get("/metrics").status_code == 403
    with TestClient(app, client=("127.0.0.1", 40000)) as local:
        assert local.get("/metrics").status_code == 200
    monkeypatch.setenv("ALUETURVA_METRICS_TOKEN", "m" * 32)
    get_settings.cache_clear()
    with TestClient(app, client=("203.0.113.7", 40000)) as outside:
        assert outside.get("/metrics").status_code == 401
        assert outside.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        scraped = outside.get("/metrics", headers={"Authorization": f"Bearer {'m' * 32}"})
        assert scraped.status_code == 200 and "alueturva_http_requests_total" in scraped.text
    with TestClient(app, client=("127.0.0.1", 40000)) as local:
        assert local.get("/metrics").status_code == 401  # with a token set, everyone shows it
