"""Rate limits against abuse (issue 14): failed API-key authentications per client address, acknowledgement link
attempts per link and failures per address, webhooks with bad signatures per address: 429 with Retry-After. A valid
key, link or signature is never refused from an address that others abuse, and a legitimate burst (everyone
acknowledging at once, from one mobile operator's address) stays well inside the limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from alerting import flows
from alerting.models import Recipient
from alerting.schemas import AlertCreate
from alerting.tokens import ack_path
from alueturva.auth.models import Role
from alueturva.db import Database
from alueturva.queue import InProcessQueue
from alueturva.settings import get_settings
from loopback.processes import RedisServer
from loopback.twilio_server import FakeTwilio
from tests.conftest import auth
from tests.support.roster import make_people, settled, wait_until

SMS_URL = "http://127.0.0.1:8000/webhooks/twilio/sms"
ATTACKER = ("198.51.100.66", 40000)
SOMEONE_ELSE = ("203.0.113.20", 40000)
OPERATOR_NAT = ("192.0.2.1", 40000)  # a mobile operator's address: every phone behind it looks alike


@pytest.fixture
def app(database: Database, queue: InProcessQueue) -> FastAPI:
    from alueturva.app.http import create_app

    return create_app()


@pytest.fixture
def attacker(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, client=ATTACKER) as client:
        yield client


@pytest.fixture
def someone_else(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, client=SOMEONE_ELSE) as client:
        yield client


def _assert_limited(response: object) -> None:
    assert response.status_code == 429, response.text  # type: ignore[attr-defined]
    assert int(response.headers["Retry-After"]) >= 1  # type: ignore[attr-defined]


def test_failed_authentications_are_limited_per_address(
    attacker: TestClient, someone_else: TestClient, keys: dict[Role, str]
) -> None:
    limit = get_settings().auth_failures_per_minute
    for n in range(limit):
        assert attacker.get("/api/v1/people", headers=auth(f"alt_guess{n}")).status_code == 401
    _assert_limited(attacker.get("/api/v1/people", headers=auth("alt_guess")))
    # a valid key from the same (perhaps shared) address still works; elsewhere nothing was counted
    assert attacker.get("/api/v1/people", headers=auth(keys[Role.admin])).status_code == 200
    assert someone_else.get("/api/v1/people", headers=auth("alt_guess")).status_code == 401
    for _ in range(3 * limit):  # requests without a key cost nothing and are not counted
        assert someone_else.get("/api/v1/people").status_code == 401
    assert someone_else.get("/api/v1/people", headers=auth(keys[Role.admin])).status_code == 200


def test_with_redis_every_api_process_shares_the_count(
    database: Database, queue: InProcessQueue, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alueturva.app.http import create_app

    monkeypatch.setenv("ALUETURVA_REDIS_URL", redis_server.url)
    monkeypatch.setenv("ALUETURVA_AUTH_FAILURES_PER_MINUTE", "6")
    get_settings.cache_clear()
    with TestClient(create_app(), client=ATTACKER) as first, TestClient(create_app(), client=ATTACKER) as second:
        for n in range(3):
            assert first.get("/api/v1/people", headers=auth(f"alt_a{n}")).status_code == 401
            assert second.get("/api/v1/people", headers=auth(f"alt_b{n}")).status_code == 401
        _assert_limited(first.get("/api/v1/people", headers=auth("alt_c")))
        _assert_limited(second.get("/api/v1/people", headers=auth("alt_c")))


def _alert_to(database: Database, people: list[int], **fields: object) -> int:
    body = {"title": "Myrsky", "message": "M", "targets": {"people": people}, "channels": ["sms"], **fields}
    alert_id = flows.create_alert(AlertCreate.model_validate(body), actor="test").alert_id
    assert wait_until(lambda: settled(database, alert_id))
    return alert_id


def _paths(database: Database, alert_id: int) -> list[str]:
    with database.session() as session:
        recipients = session.scalars(select(Recipient).where(Recipient.alert_id == alert_id).order_by(Recipient.id))
        return [ack_path(recipient) for recipient in recipients]


def test_link_submissions_are_limited_per_link(attacker: TestClient, database: Database, queue: InProcessQueue) -> None:
    [path] = _paths(database, _alert_to(database, make_people(database, 1)))
    for _ in range(get_settings().link_attempts_per_minute):
        assert attacker.post(path, data={}).status_code == 200
    limited = attacker.post(path, data={})
    _assert_limited(limited)
    assert "<html" in limited.text.lower()


def test_invalid_links_are_limited_per_address(
    attacker: TestClient, someone_else: TestClient, database: Database, queue: InProcessQueue
) -> None:
    [path] = _paths(database, _alert_to(database, make_people(database, 1)))
    for n in range(get_settings().link_failures_per_minute):
        assert attacker.post(f"/ack/forged.{n}", data={}).status_code == 400
    _assert_limited(attacker.post("/ack/forged", data={}))
    _assert_limited(attacker.get("/ack/forged"))
    assert someone_else.post("/ack/forged", data={}).status_code == 400
    assert attacker.post(path, data={}).status_code == 200  # a valid link behind the same address goes through


def test_webhooks_with_bad_signatures_are_limited_per_address(
    attacker: TestClient, someone_else: TestClient, twilio_settings: FakeTwilio, database: Database
) -> None:
    params = twilio_settings.inbound_sms_params(from_="+358401110001", body="OK")
    for _ in range(get_settings().webhook_failures_per_minute):
        assert attacker.post(SMS_URL, data=params, headers={"X-Twilio-Signature": "Zm9yZ2Vk"}).status_code == 403
    _assert_limited(attacker.post(SMS_URL, data=params, headers={"X-Twilio-Signature": "Zm9yZ2Vk"}))
    assert someone_else.post(SMS_URL, data=params, headers={"X-Twilio-Signature": "Zm9yZ2Vk"}).status_code == 403
    # Twilio's addresses carry every Twilio customer's webhooks: a genuine one from the same address goes through
    genuine = attacker.post(SMS_URL, data=params, headers=twilio_settings.signed(SMS_URL, params))
    assert genuine.status_code == 200


def test_everyone_acknowledging_at_once_from_one_address_stays_inside_the_limits(
    app: FastAPI, twilio_settings: FakeTwilio, database: Database, queue: InProcessQueue
) -> None:
    """150 people (five times the per-address failure limit) acknowledge by link, 150 by SMS reply, all within
    seconds and from one address each: nothing is refused."""
    people = make_people(database, 300)
    alert_id = _alert_to(database, people)
    paths = _paths(database, alert_id)
    with TestClient(app, client=OPERATOR_NAT) as phones:
        assert [phones.post(path, data={}).status_code for path in paths[:150]] == [200] * 150
    with TestClient(app, client=("54.172.60.1", 443)) as twilio:  # Twilio posts every reply from its own range
        statuses = [
            twilio.post(SMS_URL, data=params, headers=twilio_settings.signed(SMS_URL, params)).status_code
            for params in (
                twilio_settings.inbound_sms_params(from_=f"+35840{n:07d}", body="OK") for n in range(150, 300)
            )
        ]
    assert statuses == [200] * 150
    with database.session() as session:
        acknowledged = session.scalars(
            select(Recipient.id).where(Recipient.alert_id == alert_id, Recipient.acknowledged_at.is_not(None))
        ).all()
    assert len(acknowledged) == 300
