"""Pytest fixtures for the real peers in ``tests.support`` (loaded by ``tests/conftest.py``).

- ``fake_twilio``: a started ``FakeTwilio``; ``twilio_settings``: the service sends SMS through it.
- ``smtp_server``: a started aiosmtpd ``SmtpServer``; ``smtp_settings``: the service mails through it.
- ``redis_server``: a private ``redis-server`` (FLUSHALL it, kill it, restart it: it is yours alone).
- ``queue_name``: a queue name unique to the test; ``rq_queue``: this process enqueues to RQ on
  ``redis_server`` (``get_queue()`` returns it), with ``ALUETURVA_REDIS_URL`` / ``ALUETURVA_QUEUE_NAME``
  set for subprocesses.
- ``rq_client``: a FastAPI ``TestClient`` whose jobs go to RQ (use instead of ``client`` with real workers).
- ``rq_workers``: a factory, ``rq_workers(n)`` starts ``n`` real ``alueturva worker`` processes on that queue.
- ``scheduler_process``: a factory starting ``alueturva scheduler``;
- ``sweep``: runs every periodic task once, in this process.
- ``accounts``: a web console account per role (``tests.support.web``), their ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from alueturva.auth.models import Role
from alueturva.db import Database
from alueturva.queue import RQQueue, set_queue
from alueturva.settings import get_settings
from loopback.processes import RedisServer, SchedulerProcess, WorkerProcess, service_env
from loopback.smtp_server import SmtpServer
from loopback.twilio_server import FakeTwilio
from tests.support.web import make_accounts

TWILIO_FROM = "+358401234567"


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def twilio_settings(monkeypatch: pytest.MonkeyPatch, fake_twilio: FakeTwilio) -> Iterator[FakeTwilio]:
    """Twilio SMS through ``fake_twilio`` (sender ``TWILIO_FROM``); returns the fake."""
    monkeypatch.setenv("ALUETURVA_SMS_BACKEND", "twilio")
    monkeypatch.setenv("ALUETURVA_TWILIO_ACCOUNT_SID", fake_twilio.account_sid)
    monkeypatch.setenv("ALUETURVA_TWILIO_AUTH_TOKEN", fake_twilio.auth_token)
    monkeypatch.setenv("ALUETURVA_TWILIO_FROM", TWILIO_FROM)
    monkeypatch.delenv("ALUETURVA_TWILIO_MESSAGING_SERVICE_SID", raising=False)
    monkeypatch.setenv("ALUETURVA_TWILIO_BASE_URL", fake_twilio.base_url)
    get_settings.cache_clear()
    yield fake_twilio
    get_settings.cache_clear()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def smtp_settings(monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer) -> Iterator[SmtpServer]:
    """SMTP email through ``smtp_server``; returns the server."""
    monkeypatch.setenv("ALUETURVA_EMAIL_BACKEND", "smtp")
    monkeypatch.setenv("ALUETURVA_SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("ALUETURVA_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("ALUETURVA_EMAIL_FROM", "alueturva@example.test")
    monkeypatch.setenv("ALUETURVA_SMTP_STARTTLS", "false")
    monkeypatch.delenv("ALUETURVA_SMTP_USER", raising=False)
    monkeypatch.delenv("ALUETURVA_SMTP_PASSWORD", raising=False)
    get_settings.cache_clear()
    yield smtp_server
    get_settings.cache_clear()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    workdir = tmp_path / "redis"
    workdir.mkdir()
    with RedisServer(workdir=workdir) as server:
        yield server


@pytest.fixture
def queue_name() -> str:
    return f"alueturva-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def rq_queue(
    database: Database, redis_server: RedisServer, queue_name: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RQQueue]:
    """Jobs enqueued here go to RQ on the private Redis (subprocesses inherit the same settings)."""
    monkeypatch.setenv("ALUETURVA_REDIS_URL", redis_server.url)
    monkeypatch.setenv("ALUETURVA_QUEUE_NAME", queue_name)
    get_settings.cache_clear()
    queue = RQQueue(redis_server.url, queue_name)
    set_queue(queue)
    yield queue
    set_queue(None)
    get_settings.cache_clear()


@pytest.fixture
def rq_client(rq_queue: RQQueue) -> Iterator[TestClient]:
    from alueturva.app.http import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


class WorkerPool:
    """Starts real ``alueturva worker`` processes; all of them are stopped at the end of the test."""

    def __init__(self, redis_url: str, queue_name: str, log_dir: Path) -> None:
        self.redis_url = redis_url
        self.queue_name = queue_name
        self.log_dir = log_dir
        self.workers: list[WorkerProcess] = []

    def __call__(
        self, n: int = 1, *, extra_env: dict[str, str] | None = None, fork: bool = False
    ) -> list[WorkerProcess]:
        """Start ``n`` workers with this process's ``ALUETURVA_*`` settings (``fork``: ``alueturva worker --fork``);
        return once RQ lists them."""
        env = service_env(redis_url=self.redis_url, queue_name=self.queue_name, extra=extra_env)
        started = []
        for _ in range(n):
            number = len(self.workers) + 1
            worker = WorkerProcess(env, self.log_dir / f"worker-{number}.log", name=f"worker-{number}", fork=fork)
            worker.start()
            self.workers.append(worker)
            started.append(worker)
        for worker in started:
            worker.wait_registered(self.redis_url, self.queue_name)
        return started

    def logs(self) -> str:
        return "\n".join(f"--- {w.name} (pid {w.pid}) ---\n{w.log_tail()}" for w in self.workers)

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.terminate(timeout=5)


@pytest.fixture
def rq_workers(database_url: str, redis_server: RedisServer, queue_name: str, tmp_path: Path) -> Iterator[WorkerPool]:
    pool = WorkerPool(redis_server.url, queue_name, tmp_path)
    yield pool
    pool.stop_all()


@pytest.fixture
def scheduler_process(
    database_url: str, redis_server: RedisServer, queue_name: str, tmp_path: Path
) -> Iterator[Callable[..., SchedulerProcess]]:
    """A factory: ``scheduler_process(extra_env=None)`` starts ``alueturva scheduler``."""
    started: list[SchedulerProcess] = []

    def start(*, extra_env: dict[str, str] | None = None) -> SchedulerProcess:
        env = service_env(redis_url=redis_server.url, queue_name=queue_name, extra=extra_env)
        process = SchedulerProcess(env, tmp_path / f"scheduler-{len(started) + 1}.log")
        process.start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate(timeout=5)


def run_periodic_tasks() -> None:
    """Run every periodic task of the application once, in this process (what one scheduler tick does)."""
    from alueturva.app.wiring import periodic_tasks

    for task in periodic_tasks():
        task.func()


@pytest.fixture
def sweep(database: Database) -> Callable[[], None]:
    """Runs every periodic task once in this process (the sweeper, escalation) against the test's database."""
    return run_periodic_tasks


@pytest.fixture
def accounts(database: Database) -> dict[Role, int]:
    return make_accounts(database)
