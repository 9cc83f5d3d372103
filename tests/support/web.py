"""Signing in to the web console over HTTP, shared by the web tests: one account per role (the ``accounts`` fixture
in ``tests.support.fixtures``), the sign-in form, and the CSRF token a page's forms carry."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from alueturva.auth.models import Role
from alueturva.auth.service import SYSTEM
from alueturva.auth.users import create_user
from alueturva.db import Database

PASSWORD = "a password for the tests"


def make_accounts(database: Database) -> dict[Role, int]:
    """``<role>@example.fi`` for every role, named ``<Role> Person``; their ids."""
    ids = {}
    with database.session() as session:
        for role in Role:
            user = create_user(
                session,
                email=f"{role.value}@example.fi",
                name=f"{role.value.title()} Person",
                role=role,
                password=PASSWORD,
                actor=SYSTEM,
            )
            ids[role] = user.id
    return ids


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def sign_in(client: TestClient, role: Role) -> str:
    """Sign in as ``role``; the session's CSRF token for forms."""
    page = client.get("/login")
    answer = client.post(
        "/login",
        data={
            "email": f"{role.value}@example.fi",
            "password": PASSWORD,
            "next": "/",
            "csrf_token": csrf_token(page.text),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return csrf_token(client.get("/").text)
