"""Property-based run over the situation routes of the OpenAPI document: no 5xx, answers conform to the spec.

Schema-valid input may still be refused with 422 (an unknown indicator or area, a period that ends before it
starts): those are checked by the domain, so the "positive data acceptance" check is left out.
"""

from __future__ import annotations

import os

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from alueturva.auth.models import Role
from alueturva.db import Database
from tests.conftest import auth

SITUATION = r"^/api/v1/(situation|observations|readiness)"


def test_situation_routes_conform(client: TestClient, database: Database, keys: dict[Role, str]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app).include(path_regex=SITUATION)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert len(operations) >= 10
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
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        conforms()
