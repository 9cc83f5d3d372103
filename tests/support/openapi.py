"""A property-based run over the app's OpenAPI document, or part of it (schemathesis)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

EXAMPLES = int(os.environ.get("ALUETURVA_SCHEMATHESIS_EXAMPLES", "30"))


def assert_routes_conform(
    app: FastAPI,
    *,
    path_regex: str,
    headers: dict[str, str],
    min_operations: int,
    excluded_checks: Sequence[schemathesis.CheckFunction] = (),
    last: str | None = None,
    examples: int = EXAMPLES,
) -> None:
    """Every operation under ``path_regex`` answers generated requests without a 5xx and as its schema says.
    Operations whose path matches ``last`` run after the others (revoking API keys: perhaps the caller's own)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex=path_regex)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert len(operations) >= min_operations
    operations.sort(key=lambda operation: bool(last and re.search(last, operation.path)))
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=list(excluded_checks))

        conforms()
