"""Console sign-ins under attack (issue 18): failed sign-ins are counted per client address and per email and
address, and past either limit answered 429 before any password is checked; passwords are checked (argon2) in a few
threads of their own, so a flood of sign-ins never takes the threads that acknowledgements and the API need. No
account is ever locked: the right password from an address without failures always works, every failure reads the
same, and the time to try again is said in Finnish and Swedish."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from alerting import flows
from alerting.models import Recipient
from alerting.schemas import AlertCreate
from alerting.tokens import ack_path
from alueturva.app.web.layout import LANGUAGE_COOKIE
from alueturva.auth.models import Role
from alueturva.auth.users import hashing_limiter
from alueturva.db import Database
from alueturva.queue import InProcessQueue
from alueturva.settings import get_settings
from loopback.processes import RedisServer
from tests.conftest import auth
from tests.support.roster import make_people, settled, wait_until
from tests.support.web import PASSWORD, csrf_token

ATTACKER = ("198.51.100.66", 40000)
COLLEAGUE = ("203.0.113.20", 40000)
GUARD_SECONDS = 60  # only so that a broken build fails instead of hanging; no time is asserted


@pytest.fixture
def app(
    database: Database, queue: InProcessQueue, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> FastAPI:
    """The counts in Redis, as in production: every client here (each with its own event loop) shares them."""
    from alueturva.app.http import create_app

    monkeypatch.setenv("ALUETURVA_REDIS_URL", redis_server.url)
    get_settings.cache_clear()
    return create_app()


@pytest.fixture
def attacker(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, client=ATTACKER) as client:
        yield client


def _sign_in(client: TestClient, email: str, password: str) -> httpx.Response:
    token = csrf_token(client.get("/login").text)
    form = {"email": email, "password": password, "next": "/", "csrf_token": token}
    return client.post("/login", data=form, follow_redirects=False)


def _ack_path(database: Database) -> str:
    [person] = make_people(database, 1)
    body = {"title": "Myrsky", "message": "M", "targets": {"people": [person]}, "channels": ["sms"]}
    alert_id = flows.create_alert(AlertCreate.model_validate(body), actor="test").alert_id
    assert wait_until(lambda: settled(database, alert_id))
    with database.session() as session:
        recipient = session.scalars(select(Recipient).where(Recipient.alert_id == alert_id)).one()
        return ack_path(recipient)


class HashingHeld:
    """Every password-checking thread of ``client``'s event loop taken, as a flood of slow hashes would take them."""

    def __init__(self, client: TestClient) -> None:
        self.client, self.borrowers = client, [object() for _ in range(get_settings().password_hashing_threads)]

    async def _acquire(self) -> None:
        for borrower in self.borrowers:
            await hashing_limiter().acquire_on_behalf_of(borrower)

    async def _release(self) -> None:
        for borrower in self.borrowers:
            hashing_limiter().release_on_behalf_of(borrower)

    async def _waiting(self) -> int:
        return hashing_limiter().statistics().tasks_waiting

    def waiting(self) -> int:
        return self.client.portal.call(self._waiting)  # type: ignore[union-attr]

    def __enter__(self) -> HashingHeld:
        self.client.portal.call(self._acquire)  # type: ignore[union-attr]
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.portal.call(self._release)  # type: ignore[union-attr]


def test_acknowledgements_and_api_reads_answer_while_a_flood_of_sign_ins_waits_for_hashing(
    app: FastAPI, database: Database, accounts: dict[Role, int], keys: dict[Role, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """60 sign-ins at once (more than the 40 threads of the shared pool) wait for the hashing threads holding no
    thread: an acknowledgement page and an API read answer meanwhile."""
    monkeypatch.setenv("ALUETURVA_LOGIN_FAILURES_PER_MINUTE", "1000")
    monkeypatch.setenv("ALUETURVA_LOGIN_ACCOUNT_FAILURES_PER_MINUTE", "1000")
    monkeypatch.setenv("ALUETURVA_LOGIN_ACCOUNT_SLOWDOWN_PER_MINUTE", "1000")
    get_settings.cache_clear()
    path = _ack_path(database)
    flood = 60
    with TestClient(app, client=ATTACKER) as client, ThreadPoolExecutor(flood) as pool:
        token = csrf_token(client.get("/login").text)
        form = {"email": "operator@example.fi", "password": "wrong guess 123", "csrf_token": token}
        with HashingHeld(client) as held:
            pending: list[Future[httpx.Response]] = [
                pool.submit(client.post, "/login", data=form) for _ in range(flood)
            ]
            assert wait_until(lambda: held.waiting() == flood, timeout=GUARD_SECONDS)
            assert client.get(path).status_code == 200
            assert client.get("/api/v1/people", headers=auth(keys[Role.viewer])).status_code == 200
            assert not any(future.done() for future in pending)
        assert [future.result(GUARD_SECONDS).status_code for future in pending] == [401] * flood


def test_a_flood_of_failed_sign_ins_is_refused_before_any_password_is_checked(
    attacker: TestClient, accounts: dict[Role, int], keys: dict[Role, str]
) -> None:
    for n in range(get_settings().login_failures_per_minute):
        assert _sign_in(attacker, f"guess{n}@example.fi", "wrong guess 123").status_code == 401
    with HashingHeld(attacker), ThreadPoolExecutor(4) as pool:
        # every hashing thread is taken: a request that checked a password would wait; these answer at once
        flood = [pool.submit(_sign_in, attacker, "operator@example.fi", PASSWORD) for _ in range(40)]
        answers = [future.result(GUARD_SECONDS) for future in flood]
        assert {answer.status_code for answer in answers} == {429}
        assert all(int(answer.headers["Retry-After"]) >= 1 for answer in answers)
        assert attacker.get("/api/v1/people", headers=auth(keys[Role.viewer])).status_code == 200


def test_nobody_can_lock_an_account_from_elsewhere(
    app: FastAPI, attacker: TestClient, accounts: dict[Role, int]
) -> None:
    limit = get_settings().login_account_failures_per_minute
    for _ in range(limit):
        assert _sign_in(attacker, "operator@example.fi", "wrong guess 123").status_code == 401
    assert _sign_in(attacker, "operator@example.fi", PASSWORD).status_code == 429  # this address is done for now
    with TestClient(app, client=COLLEAGUE) as colleague:
        assert _sign_in(colleague, "operator@example.fi", PASSWORD).status_code == 303


def test_every_failure_reads_the_same_whether_the_account_exists_or_not(
    attacker: TestClient, accounts: dict[Role, int]
) -> None:
    def error(answer: httpx.Response) -> str:
        match = re.search(r'<p class="error" role="alert">(.*?)</p>', answer.text)
        assert match, answer.text
        return match.group(1)

    limit = get_settings().login_account_failures_per_minute
    for email in ("operator@example.fi", "nobody@example.fi"):
        wrong = [_sign_in(attacker, email, "wrong guess 123") for _ in range(limit)]
        assert {(answer.status_code, error(answer)) for answer in wrong} == {
            (401, "Sähköposti tai salasana on väärin.")
        }
        throttled = _sign_in(attacker, email, "wrong guess 123")
        assert throttled.status_code == 429
        assert re.fullmatch(
            r"Liian monta epäonnistunutta kirjautumista\. Yritä uudelleen klo \d{1,2}\.\d\d jälkeen\.", error(throttled)
        )
    attacker.cookies.set(LANGUAGE_COOKIE, "sv")
    swedish = _sign_in(attacker, "nobody@example.fi", "wrong guess 123")
    assert re.fullmatch(
        r"För många misslyckade inloggningar\. Försök igen efter kl\. \d{1,2}\.\d\d\.", error(swedish)
    ), swedish.text


def test_an_email_failing_from_many_addresses_slows_down_but_its_right_password_still_works(
    app: FastAPI, accounts: dict[Role, int], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ALUETURVA_LOGIN_ACCOUNT_SLOWDOWN_PER_MINUTE", "6")
    monkeypatch.setenv("ALUETURVA_LOGIN_SLOWDOWN_SECONDS", "0.1")
    get_settings.cache_clear()
    for n in range(3):
        with TestClient(app, client=(f"198.51.100.{n + 1}", 40000)) as botnet:
            for _ in range(2):
                assert _sign_in(botnet, "operator@example.fi", "wrong guess 123").status_code == 401
    caplog.set_level("INFO", logger="alueturva.app.web.login")
    with TestClient(app, client=COLLEAGUE) as colleague:
        assert _sign_in(colleague, "operator@example.fi", PASSWORD).status_code == 303
    assert any("sign-in slowed down" in record.getMessage() for record in caplog.records)
