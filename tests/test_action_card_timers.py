"""Action cards' timers (issue 21, step 4): an open task is reminded once at its due time, then handed to its holder's
deputy, then shown as overdue; the timers are rows, so a restarted scheduler loses none and repeats none."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from actioncards.flows import import_set
from actioncards.models import ActivatedTask, ActivationMessage, MessageKind, TaskStep
from actioncards.timers import HAND_OVER_AFTER, OVERDUE_AFTER, run_due_steps
from alueturva.auth.models import Role
from alueturva.config import config_path
from alueturva.db import Database
from contacts.demo import load_demo_roster
from loopback.processes import SchedulerProcess
from tests.conftest import auth
from tests.support.fixtures import WorkerPool
from tests.support.roster import wait_until

STARTER = config_path("action_cards/keski-pohjanmaa.yaml")


@pytest.fixture
def cards(database: Database) -> None:
    load_demo_roster()
    import_set(data=STARTER.read_bytes(), source="starter", actor="test")


def activate(client: TestClient, keys: dict[Role, str]) -> dict[str, Any]:
    body = {"card": "vesihuolto-tehostettu", "area": "kokkola"}
    answer = client.post("/api/v1/activations", json=body, headers=auth(keys[Role.operator]))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def age(database: Database, activation_id: int, delta: timedelta) -> None:
    """Move the activation's task times into the past, as if ``delta`` had passed."""
    with database.session() as session:
        for task in session.scalars(select(ActivatedTask).where(ActivatedTask.activation_id == activation_id)):
            task.due_at -= delta
            if task.next_step_at is not None:
                task.next_step_at -= delta


def task_one(database: Database, activation_id: int) -> ActivatedTask:
    with database.session() as session:
        task = session.scalars(
            select(ActivatedTask).where(ActivatedTask.activation_id == activation_id, ActivatedTask.position == 1)
        ).first()
        assert task is not None
        session.expunge(task)
        return task


def messages_of(database: Database, activation_id: int, kind: MessageKind) -> list[tuple[int | None, int | None]]:
    with database.session() as session:
        rows = session.execute(
            select(ActivationMessage.person_id, ActivationMessage.alert_id).where(
                ActivationMessage.activation_id == activation_id, ActivationMessage.kind == kind
            )
        ).all()
    return [(row[0], row[1]) for row in rows]


def test_a_late_task_is_reminded_once_then_handed_to_the_deputy_then_overdue(
    client: TestClient, keys: dict[Role, str], database: Database, cards: None
) -> None:
    activation = activate(client, keys)
    first = task_one(database, activation["id"])
    holder = first.person_id
    assert first.next_step is TaskStep.remind and holder is not None
    assert run_due_steps() == 0  # nothing is due yet

    age(database, activation["id"], timedelta(minutes=31))  # T1 was due in 30 minutes
    assert run_due_steps() >= 1
    reminded = task_one(database, activation["id"])
    assert reminded.reminded_at and reminded.next_step is TaskStep.hand_over and reminded.person_id == holder
    assert run_due_steps() == 0  # reminded once
    reminders = [m for m in messages_of(database, activation["id"], MessageKind.reminder) if m[0] == holder]
    assert len(reminders) == 1 and reminders[0][1] is not None  # sent, as an alert

    age(database, activation["id"], HAND_OVER_AFTER)
    run_due_steps()
    handed = task_one(database, activation["id"])
    assert handed.handed_over_from_id == holder and handed.person_id not in (None, holder)
    assert handed.next_step is TaskStep.overdue
    told = messages_of(database, activation["id"], MessageKind.handed_over)
    assert (handed.person_id, told[0][1]) in told and told[0][1] is not None

    shown = client.get(f"/api/v1/activations/{activation['id']}", headers=auth(keys[Role.viewer])).json()
    row = next(t for t in shown["tasks"] if t["id"] == first.id)
    assert row["handed_over_from"] and row["assignee"] != row["handed_over_from"] and row["overdue"]

    age(database, activation["id"], OVERDUE_AFTER)
    run_due_steps()
    overdue = task_one(database, activation["id"])
    assert overdue.overdue_at and overdue.next_step is None
    assert len(messages_of(database, activation["id"], MessageKind.handed_over)) == len(told)


def test_the_timers_survive_a_restart_of_the_scheduler(
    rq_client: TestClient, keys: dict[Role, str], database: Database, cards: None,
    rq_workers: WorkerPool, scheduler_process: Callable[..., SchedulerProcess],
) -> None:  # fmt: skip
    fast = {"ALUETURVA_ALERT_SWEEP_INTERVAL_SECONDS": "0.5"}
    rq_workers(1)
    activation = activate(rq_client, keys)
    first = scheduler_process(extra_env=fast)
    first.terminate(timeout=5)  # the scheduler stops before anything is due

    age(database, activation["id"], timedelta(minutes=31))
    second = scheduler_process(extra_env=fast)
    assert wait_until(lambda: task_one(database, activation["id"]).next_step is TaskStep.hand_over, timeout=60)
    second.terminate(timeout=5)
    holder = task_one(database, activation["id"]).person_id

    age(database, activation["id"], HAND_OVER_AFTER)
    scheduler_process(extra_env=fast)
    assert wait_until(lambda: task_one(database, activation["id"]).handed_over_at is not None, timeout=60)
    assert wait_until(
        lambda: all(alert for _, alert in messages_of(database, activation["id"], MessageKind.handed_over))
    )
    reminders = [m for m in messages_of(database, activation["id"], MessageKind.reminder) if m[0] == holder]
    assert len(reminders) == 1  # reminded once, across the restarts
    assert task_one(database, activation["id"]).handed_over_from_id == holder
