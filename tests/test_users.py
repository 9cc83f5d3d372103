"""Web console accounts in the kernel: argon2 hashes, sessions that end (idle, absolute,
revoked, disabled account), and the `alueturva user` commands, every change audited with its actor."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import select

from alueturva.audit.models import AuditEvent
from alueturva.auth import sessions, users
from alueturva.auth.models import Role, User
from alueturva.auth.service import SYSTEM
from alueturva.db import Database, utcnow
from alueturva.errors import Conflict, Invalid
from loopback.processes import REPO_ROOT, alueturva_command, service_env

PASSWORD = "a long enough password"


def _user(database: Database, email: str = "op@example.fi", role: Role = Role.operator) -> int:
    with database.session() as session:
        return users.create_user(session, email=email, name="Olli", role=role, password=PASSWORD, actor=SYSTEM).id


def test_passwords_are_kept_as_argon2_hashes_and_checked(database: Database) -> None:
    user_id = _user(database)
    with database.session() as session:
        user = session.get(User, user_id)
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert users.authenticate(session, email="OP@example.fi ", password=PASSWORD) is user
        assert users.authenticate(session, email="op@example.fi", password=PASSWORD + "x") is None
        assert users.authenticate(session, email="nobody@example.fi", password=PASSWORD) is None
        with pytest.raises(Invalid, match="at least 12"):
            users.create_user(session, email="b@example.fi", name="B", role=Role.viewer, password="short", actor=SYSTEM)
        with pytest.raises(Conflict):
            users.create_user(
                session, email="Op@Example.fi", name="B", role=Role.viewer, password=PASSWORD, actor=SYSTEM
            )


def test_sessions_end_when_idle_at_their_age_limit_when_revoked_and_when_disabled(database: Database) -> None:
    user_id = _user(database)
    start = utcnow()
    with database.session() as session:
        user = session.get(User, user_id)
        assert user is not None
        idle = sessions.start_session(session, user=user, now=start)
        assert sessions.signed_in(session, token=idle, now=start + timedelta(minutes=59)) is not None
        assert sessions.signed_in(session, token=idle, now=start + timedelta(minutes=59 + 61)) is None

        busy = sessions.start_session(session, user=user, now=start)
        for step in range(1, 15):  # used every 50 minutes, up to 11 h 40 min after signing in
            assert sessions.signed_in(session, token=busy, now=start + timedelta(minutes=50 * step)) is not None
        assert sessions.signed_in(session, token=busy, now=start + timedelta(hours=12, minutes=1)) is None

        revoked = sessions.start_session(session, user=user)
        signed = sessions.signed_in(session, token=revoked)
        assert signed is not None and signed.principal.actor == f"web:user:{user_id}"
        assert sessions.revoke_sessions(session, user=user, actor=SYSTEM) >= 1
        assert sessions.signed_in(session, token=revoked) is None

        disabled = sessions.start_session(session, user=user)
        users.set_active(session, user=user, active=False, actor=SYSTEM)
        assert sessions.signed_in(session, token=disabled) is None
        assert sessions.signed_in(session, token="not a token") is None


def _cli(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = service_env(database_url=database_url)
    return subprocess.run(
        alueturva_command(*args), input=stdin, env=env, capture_output=True, text=True, timeout=60, cwd=REPO_ROOT
    )


def test_user_commands_read_the_password_without_showing_it_and_audit_every_change(
    database: Database, database_url: str
) -> None:
    created = _cli(
        database_url,
        "user",
        "create",
        "--role",
        "viewer",
        "--email",
        "Veera@Example.fi",
        "--name",
        "Veera Katselija",
        stdin="viewer password 1234\n",
    )
    assert created.returncode == 0, created.stderr
    assert "viewer password 1234" not in created.stdout + created.stderr
    short = _cli(database_url, "user", "create", "--role", "viewer", "--email", "b@example.fi", stdin="short\n")
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    listed = _cli(database_url, "user", "list")
    assert "veera@example.fi" in listed.stdout and "viewer" in listed.stdout
    for args in (
        ["disable", "veera@example.fi"],
        ["enable", "veera@example.fi"],
        ["role", "veera@example.fi", "operator"],
        ["revoke-sessions", "veera@example.fi"],
    ):
        done = _cli(database_url, "user", *args)
        assert done.returncode == 0, done.stderr
    assert _cli(database_url, "user", "password", "veera@example.fi", stdin="another password 5678\n").returncode == 0
    with database.session() as session:
        user = users.find_user(session, email="veera@example.fi")
        assert user is not None and user.role is Role.operator and user.active
        assert users.authenticate(session, email="veera@example.fi", password="another password 5678")
        events = session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "user")).all()
    assert [e.action for e in events] == [
        "user.create",
        "user.disable",
        "user.sessions_revoked",
        "user.enable",
        "user.role",
        "user.sessions_revoked",
        "user.password",
        "user.sessions_revoked",
    ]
    assert all(e.actor.startswith("cli:") for e in events)
