"""A property-based run over the console's forms (schemathesis, issue 18). The console is no part of the OpenAPI
document (its pages are for people), so its forms are described as one here, from the pages an admin sees
(``tests.support.forms``: every form and field found, none listed by hand): each field a string whose strategy mixes
non-ASCII digits (``²``, ``١``, ``１``) and control characters (NUL, vertical tab, DEL …) into generated text, and the
form's CSRF token. Every generated post answers a page, a redirect or a 4xx: never a 5xx."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok

from alueturva.auth.models import Role
from alueturva.db import Database
from alueturva.settings import get_settings
from tests.support.forms import console_forms, console_pages, console_world
from tests.support.web import sign_in

EXAMPLES = int(os.environ.get("ALUETURVA_SCHEMATHESIS_EXAMPLES", "15"))
ODD_CHARACTERS = ["²", "١", "１", "\x00", "\x0b", "\x1f", "\x7f", "\u200b"]
ODD = [*ODD_CHARACTERS, "1²", "-１", "9" * 30]
FORMAT = "console-text"

schemathesis.openapi.format(
    FORMAT,
    st.one_of(
        st.sampled_from(ODD),
        st.text(alphabet=st.one_of(st.sampled_from(ODD_CHARACTERS), st.characters(codec="utf-8")), max_size=30),
    ),
)


def _document(forms: dict[str, list[str]], token: str) -> dict[str, Any]:
    """The console's forms as an OpenAPI document: a form-encoded body of strings, and the CSRF token as it is."""
    paths = {}
    for action, fields in forms.items():
        properties: dict[str, Any] = {field: {"type": "string", "format": FORMAT} for field in fields}
        properties["csrf_token"] = {"type": "string", "enum": [token]}
        body = {"type": "object", "properties": properties, "required": sorted(properties)}
        paths[action] = {
            "post": {
                "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": body}}},
                "responses": {"default": {"description": "a page, a redirect or a refusal"}},
            }
        }
    return {"openapi": "3.0.3", "info": {"title": "Alueturva console", "version": "1"}, "paths": paths}


def test_every_console_form_answers_generated_input_without_a_server_error(
    client: TestClient, database: Database, accounts: dict[Role, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALUETURVA_LOGIN_FAILURES_PER_MINUTE", "1000000")
    monkeypatch.setenv("ALUETURVA_LOGIN_ACCOUNT_FAILURES_PER_MINUTE", "1000000")
    get_settings.cache_clear()
    world = console_world(database)
    token = sign_in(client, Role.admin)
    forms = console_forms(client, console_pages(world))
    assert len(forms) >= 12, sorted(forms)
    schema = schemathesis.openapi.from_dict(_document(forms, token))
    schema.app = client.app
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert len(operations) == len(forms)
    failures: list[tuple[str, int, str]] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def answers(case: schemathesis.Case) -> None:
            response = case.call(cookies=dict(client.cookies), allow_redirects=False)
            if response.status_code >= 500:
                failures.append((case.operation.path, response.status_code, str(case.body)[:200]))

        answers()
    assert failures == []
