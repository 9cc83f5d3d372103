"""The whole production stack on this machine, for benchmarks: a PostgreSQL database of its own (created and
dropped), a private Redis, the fake Twilio in its own process, RQ workers, the scheduler and an API server."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text

from loopback.ports import free_port
from loopback.processes import ApiServer, RedisServer, SchedulerProcess, WorkerProcess, service_env
from loopback.twilio_server import FakeTwilioProcess

PG_ADMIN_URL = os.environ.get("ALUETURVA_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TWILIO_FROM = "+358401234567"
SECRET_KEY = "bench-secret-key-that-is-long-enough-0123456789"


def mobile_number(n: int) -> str:
    """A distinct, valid-looking Finnish mobile number for person ``n`` (+358 50 xxxxxxx)."""
    return f"+35850{n:07d}"


@contextmanager
def bench_database() -> Iterator[str]:
    """A migrated, seeded PostgreSQL database of its own; dropped afterwards."""
    from alueturva.app.wiring import prepare_database

    name = f"alueturva_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        prepare_database(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def add_people(url: str, count: int) -> list[int]:
    """``count`` active Finnish-speaking people with mobiles, in one organisation; their ids."""
    from contacts.models import Organisation, Person

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            organisation_id = conn.scalar(select(Organisation.id).order_by(Organisation.id).limit(1))
            rows = [
                {
                    "name": f"Bench Person {n}",
                    "organisation_id": organisation_id,
                    "mobile": mobile_number(n),
                    "email": f"person{n}@example.test",
                    "language": "fi",
                    "active": True,
                }
                for n in range(count)
            ]
            ids = list(conn.scalars(insert(Person).returning(Person.id, sort_by_parameter_order=True), rows))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE people"))  # else whichever run comes first meets the planner's stale guesses
        return ids
    finally:
        engine.dispose()


def api_key(url: str, role_name: str = "operator") -> str:
    from alueturva.auth.models import Role
    from alueturva.auth.service import SYSTEM, create_api_key
    from alueturva.db import Database

    database = Database(url)
    try:
        with database.session() as session:
            _, plain = create_api_key(session, name=f"bench {role_name}", role=Role(role_name), created_by=SYSTEM)
        return plain
    finally:
        database.dispose()


@dataclass
class Stack:
    database_url: str
    redis: RedisServer
    fake: FakeTwilioProcess
    api: ApiServer
    workers: list[WorkerProcess]
    scheduler: SchedulerProcess | None
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)


class NoQueue:
    """A queue that takes jobs and runs none: what a benchmark times or profiles is run by hand, and nothing else may
    take its deliveries."""

    def enqueue(self, *args: object, **kwargs: object) -> None:
        return None

    def enqueue_many(self, *args: object, **kwargs: object) -> None:
        return None

    def close(self) -> None:
        return None


@contextmanager
def running_stack(
    database_url: str,
    *,
    workers: int = 2,
    forking_workers: bool = False,
    api_workers: int = 1,
    twilio_latency: float = 0.05,
    sms_rate_per_second: float = 1000.0,
    with_scheduler: bool = True,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Stack]:
    log_dir = Path(tempfile.mkdtemp(prefix="alueturva-bench-"))
    with ExitStack() as stack:
        redis = stack.enter_context(RedisServer(workdir=log_dir))
        fake = stack.enter_context(FakeTwilioProcess(latency=twilio_latency, log_path=log_dir / "twilio.log"))
        env = service_env(
            database_url=database_url,
            redis_url=redis.url,
            queue_name=f"bench-{uuid.uuid4().hex[:8]}",
            extra={
                "ALUETURVA_SECRET_KEY": SECRET_KEY,
                "ALUETURVA_SMS_BACKEND": "twilio",
                "ALUETURVA_TWILIO_ACCOUNT_SID": fake.account_sid,
                "ALUETURVA_TWILIO_AUTH_TOKEN": fake.auth_token,
                "ALUETURVA_TWILIO_FROM": TWILIO_FROM,
                "ALUETURVA_TWILIO_BASE_URL": fake.base_url,
                "ALUETURVA_SMS_RATE_PER_SECOND": str(sms_rate_per_second),
                "ALUETURVA_EMAIL_BACKEND": "console",
                **(extra_env or {}),
            },
        )
        env.pop("ALUETURVA_TWILIO_MESSAGING_SERVICE_SID", None)
        api_port = free_port()
        env["ALUETURVA_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{api_port}"
        api = ApiServer(env, log_dir / "api.log", workers=api_workers, port=api_port)
        started: list[WorkerProcess] = []
        scheduler: SchedulerProcess | None = None
        try:
            for number in range(1, workers + 1):
                worker = WorkerProcess(
                    env, log_dir / f"worker-{number}.log", name=f"worker-{number}", fork=forking_workers
                )
                worker.start()
                started.append(worker)
            for worker in started:
                worker.wait_registered(env["ALUETURVA_REDIS_URL"], env["ALUETURVA_QUEUE_NAME"])
            if with_scheduler:
                scheduler = SchedulerProcess(env, log_dir / "scheduler.log")
                scheduler.start()
            api.start()
            yield Stack(database_url, redis, fake, api, started, scheduler, log_dir, env)
        finally:
            api.terminate(timeout=10)
            if scheduler is not None:
                scheduler.terminate(timeout=10)
            for worker in started:
                worker.terminate(timeout=10)


def wait_until(predicate: object, *, timeout: float, every: float = 0.05, what: str = "condition") -> float:
    """Poll ``predicate()`` until true; the ``time.time()`` it became true. Raises ``TimeoutError``."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.time()
        time.sleep(every)
    raise TimeoutError(f"{what} not reached within {timeout} s")


def percentile(values: list[float], share: float) -> float:
    """The ``share`` (0..1) percentile of ``values`` (inclusive method, as in most load-test tools)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[max(0, round(share * 1000) - 1)]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its descendants, live or already reaped."""
    import psutil

    process = psutil.Process(pid)
    times = process.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in process.children(recursive=True):
        try:
            child_times = child.cpu_times()
        except psutil.Error:
            continue
        total += child_times.user + child_times.system
    return float(total)


def database_cpu(database_url: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend process serving the benchmark's own database (by process id):
    the database's part of an acknowledgement, which runs on the same cores."""
    import psutil

    name = database_url.rsplit("/", 1)[1]
    found = {}
    for process in psutil.process_iter(["cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if command.startswith("postgres:") and f" {name} " in command:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            found[process.pid] = times.user + times.system
    return found


def database_cpu_seconds(database_url: str, before: dict[int, float]) -> float:
    """The CPU seconds the database's backends used since ``before`` (``database_cpu``)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in database_cpu(database_url).items())


def megabytes(n_bytes: int) -> float:
    return n_bytes / (1024 * 1024)
