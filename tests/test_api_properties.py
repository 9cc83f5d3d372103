"""Property-based run over the whole API (schemathesis, issue 14): every operation of the OpenAPI document, with an
operator key and with an admin key, answers generated requests without a 5xx and as its schema says.

Schema-valid input may still be refused with 422 (targets that name nobody, an unknown indicator, a message over the
SMS segment limit): rules a JSON schema cannot say, so the "positive data acceptance" check is left out. The rate
limits are raised for the run: they would otherwise answer 429 (documented, and tested in test_rate_limits.py) to
most generated webhook calls."""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient
from schemathesis.specs.openapi.checks import positive_data_acceptance

from alerting import flows
from alerting.schemas import AlertCreate
from alueturva.auth.models import Role
from alueturva.auth.service import SYSTEM, create_api_key
from alueturva.db import Database
from alueturva.queue import InProcessQueue
from alueturva.settings import get_settings
from contacts.demo import load_demo_roster
from tests.conftest import auth
from tests.support.openapi import assert_routes_conform

# Per operation and key: about 45 operations x 2 keys, well inside the suite's time on 2 cores for both databases.
EXAMPLES = int(os.environ.get("ALUETURVA_SCHEMATHESIS_EXAMPLES", "25"))


@pytest.mark.parametrize("role", [Role.operator, Role.admin])
def test_every_route_conforms_for_operators_and_admins(
    client: TestClient, database: Database, queue: InProcessQueue, monkeypatch: pytest.MonkeyPatch, role: Role
) -> None:
    for limit in ("AUTH_FAILURES", "LINK_ATTEMPTS", "LINK_FAILURES", "WEBHOOK_FAILURES"):
        monkeypatch.setenv(f"ALUETURVA_{limit}_PER_MINUTE", "1000000")
    get_settings.cache_clear()
    load_demo_roster()
    with database.session() as session:
        _, key = create_api_key(session, name=f"schemathesis {role.value}", role=role, created_by=SYSTEM)
    flows.create_alert(
        AlertCreate(title="T", message="M", targets={"groups": [1]}, response_options=["a", "b"]), actor="test"
    )
    queue.join()
    assert_routes_conform(
        client.app,
        path_regex=r"^/",
        headers=auth(key),
        min_operations=45,
        excluded_checks=[positive_data_acceptance],
        last=r"/apikeys/.*/revoke$",
        examples=EXAMPLES,
    )
