"""Action-card tasks are personal data too (issue 23 with issue 21): a person's export lists their tasks and comments,
erasure and retention turn a comment (a free text) into the person's pseudonym."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from actioncards.demo import load_demo_cards
from actioncards.models import ActivatedTask
from alueturva.auth.models import Role
from alueturva.db import Database, utcnow
from alueturva.personal import retention
from alueturva.personal.export import texts
from alueturva.personal.pseudonym import person_pseudonym
from contacts.demo import load_demo_roster
from tests.conftest import auth


def _task_with_comment(database: Database) -> tuple[int, int]:
    load_demo_roster()
    load_demo_cards()
    with database.session() as session:
        task = session.scalars(select(ActivatedTask).where(ActivatedTask.person_id.is_not(None))).first()
        assert task is not None and task.person_id is not None
        task.comment = "Soitin Matti Meikäläiselle"
        session.commit()
        return task.id, task.person_id


def test_a_persons_tasks_are_in_their_export_and_erasure_pseudonymises_comments(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    task_id, person_id = _task_with_comment(database)
    admin = auth(keys[Role.admin])
    exported = client.get(f"/api/v1/people/{person_id}/data-export", headers=admin).json()
    (tasks,) = [section["rows"] for section in exported["sections"] if section["key"] == "actioncards.tasks"]
    assert "Soitin Matti Meikäläiselle" in {row["comment"] for row in tasks}
    assert all(f"field.{key}" in texts().entries for row in tasks for key in row)
    pdf = client.get(f"/api/v1/people/{person_id}/data-export?format=pdf", headers=admin)
    assert pdf.status_code == 200
    assert client.post(f"/api/v1/people/{person_id}/erase", json={"reason": "x"}, headers=admin).status_code == 200
    with database.session() as session:
        assert session.get(ActivatedTask, task_id).comment == person_pseudonym(person_id)  # type: ignore[union-attr]


def test_retention_pseudonymises_old_task_comments(client: TestClient, database: Database) -> None:
    task_id, person_id = _task_with_comment(database)
    assert retention.run(now=utcnow(), dry_run=True)
    runs = {run.holder: run.rows for run in retention.run(now=utcnow() + timedelta(days=3650))}
    assert runs["actioncards.tasks"] >= 1
    with database.session() as session:
        assert session.get(ActivatedTask, task_id).comment == person_pseudonym(person_id)  # type: ignore[union-attr]
