"""Helpers of the personal-data tests: an imported exercise, every report as the API gives it, and a report with
its names, numbers and addresses left out (what retention and erasure may change)."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from alueturva.auth.models import Role
from alueturva.db import Database, utcnow
from drills.models import Drill
from tests.conftest import auth
from tests.support.exercise_log import MAPPING, make_sample, roster_people

PERSONAL = {"name", "mobile", "email", "deputy", "deputy_for", "person"}


def import_exercise(client: TestClient, keys: dict[Role, str], database: Database) -> int:
    """The 2025 exercise's SMS gateway log, imported: people the roster does not know among those it knows."""
    with database.session() as session:
        sample = make_sample(roster_people(session))
    files = {"file": ("tekstiviestipalvelu.csv", sample.gateway_csv()), "mapping": ("m.yaml", MAPPING.encode())}
    answer = client.post(
        "/api/v1/drills/import", files=files, data={"name": "Harjoitus 2025"}, headers=auth(keys[Role.operator])
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["drill_id"])


def without_personal(value: Any, left_out: frozenset[str] = frozenset()) -> Any:
    """A report with every name, number and address (and ``left_out``) left out, and people in a fixed order (they
    are ordered by name, which a pseudonym changes)."""
    if isinstance(value, dict):
        return {
            key: without_personal(item, left_out)
            for key, item in value.items()
            if key not in PERSONAL and key not in left_out
        }
    if isinstance(value, list):
        items = [without_personal(item, left_out) for item in value]
        return sorted(items, key=repr) if items and isinstance(items[0], dict) else items
    return value


def _undated(value: Any) -> Any:
    """A report without the moment it was made (a measured follow-up metric is confirmed at that moment too)."""
    if isinstance(value, dict):
        made_now = {"generated_at", "confirmed_at"} if value.get("measured") is True else {"generated_at"}
        return {key: _undated(item) for key, item in value.items() if key not in made_now}
    if isinstance(value, list):
        return [_undated(item) for item in value]
    return value


def reports(client: TestClient, keys: dict[Role, str], database: Database) -> dict[str, Any]:
    """Every drill's report (JSON in Finnish and Swedish, CSV) and this and last year's follow-up."""
    admin = auth(keys[Role.admin])
    with database.session() as session:
        drills = session.scalars(select(Drill.id).order_by(Drill.id)).all()
    found: dict[str, Any] = {}
    for drill_id in drills:
        for language in ("fi", "sv"):
            answer = client.get(f"/api/v1/drills/{drill_id}/report?format=json&language={language}", headers=admin)
            assert answer.status_code == 200, answer.text
            found[f"drill {drill_id} {language}"] = _undated(answer.json())
        answer_csv = client.get(f"/api/v1/drills/{drill_id}/report?format=csv", headers=admin)
        rows = csv.DictReader(io.StringIO(answer_csv.text.lstrip("\ufeff")), delimiter=";")
        found[f"drill {drill_id} csv"] = sorted((dict(row) for row in rows), key=repr)  # redacted: no names
    for year in {utcnow().year, utcnow().year - 1}:
        found[f"followup {year}"] = _undated(client.get(f"/api/v1/followup?year={year}", headers=admin).json())
    return found


def same_figures(before: dict[str, Any], after: dict[str, Any], *, left_out: frozenset[str] = frozenset()) -> None:
    """Every report's figures are the same; ``left_out``: parts that show the roster as it is now."""
    assert after.keys() == before.keys()
    for key in before:
        old, new = without_personal(before[key], left_out), without_personal(after[key], left_out)
        if isinstance(old, dict):
            changed = {part: (old[part], new.get(part)) for part in old if new.get(part) != old[part]}
            assert not changed, f"{key}: {changed}"
        assert new == old, (key, set(map(str, old)) ^ set(map(str, new)) if isinstance(old, list) else None)
