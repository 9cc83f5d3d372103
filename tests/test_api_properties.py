"""Property-based run over the OpenAPI document (schemathesis): no 5xx, and every answer conforms to the spec."""

from __future__ import annotations

import os

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from alueturva.auth.models import Role
from alueturva.db import Database
from contacts.demo import load_demo_roster
from tests.conftest import auth

ROSTER_AND_AUDIT = r"^/api/v1/(organisations|people|groups|roles|rosters|audit|apikeys)"


def test_roster_and_audit_routes_conform(client: TestClient, database: Database, keys: dict[Role, str]) -> None:
    with database.session() as session:
        load_demo_roster(session)
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app).include(path_regex=ROSTER_AND_AUDIT)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    headers = auth(keys[Role.admin])
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=int(os.environ.get("ALUETURVA_SCHEMATHESIS_EXAMPLES", "30")),
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers)

        conforms()
