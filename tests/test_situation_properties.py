"""Property-based run over the situation routes of the OpenAPI document: no 5xx, answers conform to the spec.

Schema-valid input may still be refused with 422 (an unknown indicator or area, a period that ends before it
starts): those are checked by the domain, so the "positive data acceptance" check is left out.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from schemathesis.specs.openapi.checks import positive_data_acceptance

from alueturva.auth.models import Role
from alueturva.db import Database
from tests.conftest import auth
from tests.support.openapi import assert_routes_conform

SITUATION = r"^/api/v1/(situation|observations|readiness)"


def test_situation_routes_conform(client: TestClient, database: Database, keys: dict[Role, str]) -> None:
    assert_routes_conform(
        client.app,
        path_regex=SITUATION,
        headers=auth(keys[Role.admin]),
        min_operations=10,
        excluded_checks=[positive_data_acceptance],
    )
