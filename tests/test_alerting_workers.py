"""The same send jobs on real RQ worker processes with Redis, the Redis-shared rate limit and the sweeper."""

from __future__ import annotations

import os
import time

import pytest
from fastapi.testclient import TestClient
from rq.job import JobStatus

from alueturva.auth.models import Role
from alueturva.db import Database
from alueturva.queue import RQQueue
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


@pytest.mark.slow
@pytest.mark.parametrize("fork", [False, True], ids=["in-process", "forking"])
def test_a_job_past_its_time_out_is_stopped_and_the_worker_takes_the_next(
    rq_queue: RQQueue, rq_workers: WorkerPool, fork: bool
) -> None:
    """RQ's job time-out stops a job without a work horse too (an alarm signal inside the worker), and the worker
    goes on with the next job: by default in its own process (warm pools), with ``--fork`` in a horse per job."""
    [worker] = rq_workers(1, fork=fork)
    stuck = rq_queue.queue.enqueue(time.sleep, 60, job_timeout=1)
    assert wait_until(lambda: stuck.get_status(refresh=True) == JobStatus.FAILED, timeout=30), rq_workers.logs()
    result = stuck.latest_result()
    assert result is not None and "JobTimeoutException" in (result.exc_string or ""), rq_workers.logs()

    next_job = rq_queue.queue.enqueue(os.getpid)
    assert wait_until(lambda: next_job.get_status(refresh=True) == JobStatus.FINISHED, timeout=30), rq_workers.logs()
    assert worker.alive()
    ran_in = next_job.return_value()
    assert (ran_in != worker.pid) if fork else (ran_in == worker.pid)
