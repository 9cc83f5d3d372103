"""`alueturva user …`: the accounts of people who sign in to the web console (API keys stay for machines)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from alueturva.app.output import say, show
from alueturva.auth.roles import Role
from alueturva.errors import DomainError

user_app = typer.Typer(help="Web console accounts.", no_args_is_help=True)

UserRef = Annotated[str, typer.Argument(help="The user's email or id (see `user list`)")]


def read_password(*, confirm: bool = True) -> str:
    """From the terminal without echo (typed twice), or the first line of standard input when it is a pipe."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    password = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Password again: ") != password:
        raise DomainError("the passwords differ")
    return password


@user_app.command("create")
def create(
    role: Annotated[Role, typer.Option(help="admin, operator, reporter or viewer")],
    email: Annotated[str, typer.Option(help="What the person signs in with")],
    name: Annotated[str, typer.Option(help="The person's name as pages show it (default: the email)")] = "",
) -> None:
    """Create an account; the password is asked for (or read from standard input) and never shown."""
    from alueturva.auth.service import cli_principal
    from alueturva.auth.users import create_user
    from alueturva.db import get_database

    password = read_password()
    with get_database().session() as session:
        user = create_user(
            session, email=email, name=name or email, role=role, password=password, actor=cli_principal()
        )
        user_id = user.id
    say(f"created user {user_id} ({role.value}) {email.strip().lower()}")


@user_app.command("list")
def list_() -> None:
    """List accounts: role, whether active, last sign-in (Finnish time)."""
    from rich.table import Table

    from alueturva.auth.users import list_users
    from alueturva.db import get_database
    from alueturva.i18n import format_time

    table = Table("id", "email", "name", "role", "state", "last sign-in")
    with get_database().session() as session:
        for user in list_users(session):
            state = "" if user.active else "disabled"
            last = format_time(user.last_login_at, "fi") if user.last_login_at else ""
            table.add_row(str(user.id), user.email, user.name, user.role.value, state, last)
    show(table)


def _change(reference: str, change: str, *, role: Role | None = None, password: str | None = None) -> str:
    from alueturva.auth import sessions, users
    from alueturva.auth.service import cli_principal
    from alueturva.db import get_database

    actor = cli_principal()
    with get_database().session() as session:
        user = users.get_user(session, reference=reference)
        if change == "disable":
            users.set_active(session, user=user, active=False, actor=actor)
            sessions.revoke_sessions(session, user=user, actor=actor)
        elif change == "enable":
            users.set_active(session, user=user, active=True, actor=actor)
        elif change == "password" and password is not None:
            users.set_password(session, user=user, password=password, actor=actor)
            sessions.revoke_sessions(session, user=user, actor=actor)
        elif change == "role" and role is not None:
            users.set_role(session, user=user, role=role, actor=actor)
        elif change == "revoke":
            return f"{sessions.revoke_sessions(session, user=user, actor=actor)} sessions of {user.email} ended"
        return f"user {user.id} ({user.email}): {change} done"


@user_app.command("disable")
def disable(user: UserRef) -> None:
    """Disable an account and end its sessions at once."""
    say(_change(user, "disable"))


@user_app.command("enable")
def enable(user: UserRef) -> None:
    """Enable an account again."""
    say(_change(user, "enable"))


@user_app.command("password")
def password(user: UserRef) -> None:
    """Set a new password (asked for, or read from standard input); the account's sessions end."""
    say(_change(user, "password", password=read_password()))


@user_app.command("role")
def role(user: UserRef, new_role: Annotated[Role, typer.Argument(help="admin, operator, reporter or viewer")]) -> None:
    """Change an account's role (takes effect on its next page)."""
    say(_change(user, "role", role=new_role))


@user_app.command("revoke-sessions")
def revoke_sessions(user: UserRef) -> None:
    """End every session of an account (a lost phone, a shared screen left signed in)."""
    say(_change(user, "revoke"))
