"""The same send jobs on real RQ worker processes with Redis, the Redis-shared rate limit and the sweeper."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from alueturva.auth.models import Role
from alueturva.db import Database
from loopback.twilio_server import FakeTwilio
from tests.conftest import auth
from tests.support.fixtures import WorkerPool
from tests.support.roster import delivery_states, make_people, settled, wait_until


@pytest.mark.slow
def test_two_rq_workers_send_a_fan_out_once_each(
    twilio_settings: FakeTwilio, rq_client: TestClient, rq_workers: WorkerPool, keys: dict[Role, str],
    database: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("ALUETURVA_SEND_BATCH_SIZE", "20")
    monkeypatch.setenv("ALUETURVA_SMS_RATE_PER_SECOND", "1000")
    twilio_settings.latency = 0.05
    rq_workers(2)
    people = make_people(database, 200)
    body = {"title": "T", "message": "M", "targets": {"people": people}, "channels": ["sms"]}
    response = rq_client.post("/api/v1/alerts", json=body, headers=auth(keys[Role.operator]))
    assert response.status_code == 201, response.text
    alert_id = response.json()["id"]
    assert wait_until(lambda: settled(database, alert_id), timeout=60), rq_workers.logs()
    assert set(delivery_states(database, alert_id)) == {"sent"}
    assert len(twilio_settings.messages) == 200
    assert len({message["to"] for message in twilio_settings.messages}) == 200
