"""Drills on time: once at a time or recurring on a cron expression in Finnish time; started exactly once, even by
two schedulers or a restarted one; a start missed beyond the grace time recorded as missed, never lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from alerting.models import Alert
from alueturva.audit.models import AuditEvent
from alueturva.auth.models import Role
from alueturva.db import Database, utcnow
from alueturva.i18n import helsinki
from alueturva.queue import InProcessQueue
from drills.cron import occurrences_between
from drills.models import Drill, DrillState
from drills.schedule import tick
from loopback.processes import SchedulerProcess
from tests.conftest import BACKEND
from tests.support.drills import plan, read
from tests.support.roster import Roster, make_roster, wait_until

GRACE = timedelta(seconds=900)


@pytest.fixture
def roster(database: Database) -> Roster:
    return make_roster(database)


def _communication_test(roster: Roster, schedule: dict[str, str]) -> dict[str, object]:
    return {
        "name": "Kuukausittainen viestiliikennekoe",
        "kind": "communication_test",
        "targets": {"groups": [roster.group_id]},
        "channels": ["sms"],
        "title": "Viestiliikennekoe",
        "message": "Kuittaa tämä viesti.",
        "objectives": [{"kind": "ack_share_within", "percent": 80, "minutes": 15}],
        "schedule": schedule,
    }


def _alerts(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count(Alert.id))) or 0


def _state(database: Database, drill_id: int) -> DrillState:
    with database.session() as session:
        drill = session.get(Drill, drill_id)
        assert drill is not None
        return drill.state


def test_a_drill_planned_once_starts_at_its_time_once(
    client: TestClient, keys: dict[Role, str], roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    at = (utcnow() + timedelta(hours=1)).replace(microsecond=0)
    drill = plan(client, keys, **_communication_test(roster, {"at": at.isoformat()}))
    assert drill["schedule"] == {"at": at.isoformat().replace("+00:00", "Z")}

    assert tick(now=at - timedelta(seconds=1))["started"] == 0
    assert _state(database, drill["id"]) is DrillState.planned
    assert tick(now=at + timedelta(seconds=2))["started"] == 1
    assert tick(now=at + timedelta(seconds=7))["started"] == 0  # the next tick finds it running
    started = read(client, keys, drill["id"])
    assert started["state"] == "running" and started["started_by"] == "scheduler"
    assert started["started_at"] == (at + timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
    assert len(started["alerts"]) == 1 and _alerts(database) == 1


def test_two_schedulers_at_the_same_moment_start_a_drill_once(
    client: TestClient, keys: dict[Role, str], roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    at = utcnow() + timedelta(hours=1)
    drill = plan(client, keys, **_communication_test(roster, {"at": at.isoformat()}))
    barrier = threading.Barrier(3)
    results: list[dict[str, int]] = []

    def scheduler() -> None:
        barrier.wait()
        results.append(tick(now=at + timedelta(seconds=1)))

    threads = [threading.Thread(target=scheduler) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(result["started"] for result in results) == 1, results
    assert _alerts(database) == 1 and len(read(client, keys, drill["id"])["alerts"]) == 1


def test_a_start_missed_beyond_the_grace_time_is_recorded_not_lost(
    client: TestClient, keys: dict[Role, str], roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    at = utcnow() + timedelta(hours=1)
    drill = plan(client, keys, **_communication_test(roster, {"at": at.isoformat()}))
    assert tick(now=at + GRACE + timedelta(seconds=1)) == {"started": 0, "missed": 1, "alerts": 0, "ended": 0}
    assert read(client, keys, drill["id"])["state"] == "missed" and _alerts(database) == 0
    with database.session() as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "drill.missed")).one()
        assert audit.entity_id == str(drill["id"]) and audit.actor == "scheduler"
    late_but_within = plan(client, keys, **_communication_test(roster, {"at": at.isoformat()}))
    assert tick(now=at + GRACE - timedelta(seconds=1))["started"] == 1  # a scheduler back within grace starts it
    assert read(client, keys, late_but_within["id"])["state"] == "running"


def test_a_recurring_drill_runs_once_per_occurrence(
    client: TestClient, keys: dict[Role, str], roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    series = plan(client, keys, **_communication_test(roster, {"cron": "0 9 * * *"}))
    first = series["schedule"]["next_at"]
    assert helsinki(datetime.fromisoformat(first)).hour == 9
    first_at = datetime.fromisoformat(first)

    assert tick(now=first_at + timedelta(seconds=3))["started"] == 1
    assert tick(now=first_at + timedelta(seconds=8))["started"] == 0
    plan_now = read(client, keys, series["id"])
    assert plan_now["state"] == "planned" and len(plan_now["runs"]) == 1
    run = read(client, keys, plan_now["runs"][0])
    assert run["state"] == "running" and run["series_id"] == series["id"] and run["occurrence_at"] == first
    assert run["objectives"][0]["kind"] == "ack_share_within"

    # The scheduler is away for three days: the runs it missed are recorded, the one due now starts.
    back = first_at + timedelta(days=3, seconds=5)
    assert tick(now=back) == {"started": 1, "missed": 2, "alerts": 1, "ended": 1}
    runs = read(client, keys, series["id"])["runs"]
    assert [read(client, keys, run_id)["state"] for run_id in runs] == ["running", "missed", "missed", "ended"]
    assert _alerts(database) == 2

    cancelled = client.post(
        f"/api/v1/drills/{series['id']}/cancel", headers={"Authorization": f"Bearer {keys[Role.operator]}"}
    )
    assert cancelled.json()["state"] == "cancelled"
    assert tick(now=back + timedelta(days=1))["started"] == 0


def test_a_monthly_test_at_nine_stays_at_nine_across_daylight_saving() -> None:
    fires = occurrences_between("0 9 1 * *", datetime(2027, 1, 15, tzinfo=UTC), datetime(2027, 12, 31, tzinfo=UTC))
    assert len(fires) == 11  # February ... December
    assert {helsinki(fire).strftime("%d %H:%M") for fire in fires} == {"01 09:00"}
    assert {fire.month: fire.hour for fire in fires}[3] == 7  # UTC+2 on 1 March
    assert {fire.month: fire.hour for fire in fires}[4] == 6  # UTC+3 on 1 April, after the change on 28 March


@pytest.mark.skipif(BACKEND == "sqlite", reason="scheduler processes and the test share one database: PostgreSQL")
@pytest.mark.slow
def test_a_scheduled_drill_starts_once_with_its_scheduler_restarted_across_its_start(
    client: TestClient, keys: dict[Role, str], roster: Roster, database: Database,
    scheduler_process: Callable[..., SchedulerProcess], rq_queue: object,
) -> None:  # fmt: skip
    fast = {"ALUETURVA_DRILL_TICK_SECONDS": "0.5", "ALUETURVA_ALERT_SWEEP_INTERVAL_SECONDS": "60"}
    at = utcnow() + timedelta(seconds=6)
    drill = plan(client, keys, **_communication_test(roster, {"at": at.isoformat()}))
    first = scheduler_process(extra_env=fast)
    time.sleep(1)
    first.terminate(timeout=10)  # the scheduler goes away before the start time ...
    while utcnow() < at + timedelta(seconds=1):
        time.sleep(0.2)
    assert _state(database, drill["id"]) is DrillState.planned  # ... and nothing started it meanwhile
    scheduler_process(extra_env=fast)  # it comes back, and by mistake a second one too
    scheduler_process(extra_env=fast)
    assert wait_until(lambda: _state(database, drill["id"]) is DrillState.running, timeout=30)
    assert wait_until(lambda: _alerts(database) == 1, timeout=30)
    time.sleep(2)  # several more ticks of both schedulers
    started = read(client, keys, drill["id"])
    assert _alerts(database) == 1 and len(started["alerts"]) == 1
    started_at = datetime.fromisoformat(started["started_at"])
    assert at <= started_at < at + GRACE  # late (no scheduler ran at its time), within the grace time
