"""Property-based run over the alert routes (schemathesis): no 5xx, and every answer conforms to the spec.

Schema-valid bodies may still be refused with 422 here (targets that name nobody, ids that do not exist, a message
over the SMS segment limit): rules a JSON schema cannot say. So that one check is left out."""

from __future__ import annotations

import os

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from alerting import flows
from alerting.schemas import AlertCreate
from alueturva.auth.models import Role
from alueturva.db import Database
from alueturva.queue import InProcessQueue
from tests.conftest import auth
from tests.support.roster import make_roster


def test_alert_routes_conform(
    client: TestClient, database: Database, keys: dict[Role, str], queue: InProcessQueue
) -> None:
    roster = make_roster(database)
    flows.create_alert(
        AlertCreate(title="T", message="M", targets={"groups": [roster.group_id]}, response_options=["a", "b"]),
        actor="test",
    )
    queue.join()
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app).include(path_regex=r"^/api/v1/alerts")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 7
    headers = auth(keys[Role.operator])
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
