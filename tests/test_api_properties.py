"""Property-based run over the roster and audit routes (schemathesis): no 5xx, every answer conforms to the spec."""

from __future__ import annotations

from fastapi.testclient import TestClient

from alueturva.auth.models import Role
from alueturva.db import Database
from contacts.demo import load_demo_roster
from tests.conftest import auth
from tests.support.openapi import assert_routes_conform

ROSTER_AND_AUDIT = r"^/api/v1/(organisations|people|groups|roles|rosters|audit|apikeys)"


def test_roster_and_audit_routes_conform(client: TestClient, database: Database, keys: dict[Role, str]) -> None:
    with database.session() as session:
        load_demo_roster(session)
    assert_routes_conform(client.app, path_regex=ROSTER_AND_AUDIT, headers=auth(keys[Role.admin]), min_operations=20)
