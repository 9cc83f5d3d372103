"""The `alueturva` command line (docs/architecture.md §5).

Only typer is imported to build the commands; everything else is imported inside the command that needs it, so that
`alueturva --help` and every `COMMAND --help` answer at once. The process is booted (``alueturva.app.bootstrap``) just
before a command runs, never for help.
"""

from __future__ import annotations

import functools
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from alueturva.app.output import say, show
from alueturva.app.user_cli import user_app
from alueturva.auth.roles import Role

# Pretty tracebacks are off: they print local variables, which can hold secrets and personal data.
app = typer.Typer(
    help="Alueturva: preparedness situational awareness and alerting.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(apikey_app, name="apikey")
app.add_typer(user_app, name="user")

Host = Annotated[str, typer.Option(metavar="ADDRESS", help="Address to listen on")]
Port = Annotated[
    int, typer.Option(metavar="PORT", help="Port to listen on (also the links' base without ALUETURVA_PUBLIC_BASE_URL)")
]


def _database_url() -> str:
    from alueturva.settings import get_settings

    return get_settings().database_url


EXIT_BAD_CONFIGURATION = 2


def _check_configuration() -> None:
    """Stop before serving anything when a setting or a configuration file is wrong, listing all (exit 2)."""
    from rich.markup import escape

    from alueturva.app.bootstrap import configuration_problems

    problems = configuration_problems()
    if problems:
        say("[red]the configuration is not usable:[/red]", err=True)
        for problem in problems:
            say(f"  - {escape(problem)}", err=True)
        raise typer.Exit(EXIT_BAD_CONFIGURATION)


@app.command("check-config")
def check_config() -> None:
    """Check every setting and configuration file together; list what is wrong (exit status 2)."""
    _check_configuration()
    say("the configuration is usable")


def keep_demo_secret_key(env_file: Path = Path(".env")) -> None:
    """`up --demo` with the development secret key: make a random key once and keep it in ``.env``, which every
    later command run in this directory reads (so `alert link` signs links the demo accepts)."""
    from alueturva.settings import DEVELOPMENT_SECRET_KEY, get_settings

    if get_settings().secret_key.get_secret_value() != DEVELOPMENT_SECRET_KEY:
        return
    key = secrets.token_urlsafe(48)
    existing = env_file.read_text(encoding="utf-8") if env_file.exists() else ""
    separator = "" if not existing or existing.endswith("\n") else "\n"
    env_file.touch(mode=0o600)
    env_file.chmod(0o600)
    env_file.write_text(f"{existing}{separator}ALUETURVA_SECRET_KEY={key}\n", encoding="utf-8")
    os.environ["ALUETURVA_SECRET_KEY"] = key
    get_settings.cache_clear()
    say(f"made a secret key for this demo and kept it in {env_file}", err=True)


AUTO_URL_MARK = "# ALUETURVA_PUBLIC_BASE_URL below: written by `alueturva up` for the port it serves on"
URL_SETTING = "ALUETURVA_PUBLIC_BASE_URL="


def _public_base_url_from(host: str, port: int, env_file: Path = Path(".env")) -> None:
    """Without ALUETURVA_PUBLIC_BASE_URL, acknowledgement links point at the address this process serves on: set in
    the environment (API worker processes see it) and kept in ``.env`` with a mark, so that later commands in the
    same directory (`alert link`) print links to this port too; `up` on another port rewrites its own line. A value
    someone set (in the environment, or in ``.env`` without the mark) is never touched."""
    from alueturva.settings import get_settings

    if os.environ.get(URL_SETTING[:-1]):
        return
    lines = env_file.read_text(encoding="utf-8").splitlines() if env_file.exists() else []
    ours = {index for index, line in enumerate(lines) if line == AUTO_URL_MARK}
    ours |= {index + 1 for index in ours}
    if any(line.startswith(URL_SETTING) for index, line in enumerate(lines) if index not in ours):
        return
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    url = f"http://{shown}:{port}"
    kept = [line for index, line in enumerate(lines) if index not in ours]
    env_file.touch(mode=0o600)
    env_file.write_text("\n".join([*kept, AUTO_URL_MARK, URL_SETTING + url]) + "\n", encoding="utf-8")
    os.environ[URL_SETTING[:-1]] = url
    get_settings.cache_clear()


def _migrate() -> None:
    """Migrate and seed, and say what happened: a new database, a migration, or nothing to do."""
    from alueturva.app.wiring import prepare_database

    migrated = prepare_database(_database_url())
    revisions = ", ".join(migrated.after)
    if migrated.created:
        say(f"created the database (schema {revisions}) and loaded the reference data")
    elif migrated.changed:
        say(f"migrated the database from {', '.join(migrated.before)} to {revisions}")
    else:
        say(f"the database is up to date (schema {revisions})")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema and seed the reference data."""
    _check_configuration()
    _migrate()


@apikey_app.command("create")
def apikey_create(
    role: Annotated[Role, typer.Option(metavar="|".join(Role), help="What the key may do (see the README)")],
    name: Annotated[str, typer.Option(metavar="TEXT", help="Who or what uses the key")],
) -> None:
    """Create an API key and print it once; only its hash is stored."""
    from alueturva.auth.service import cli_principal, create_api_key
    from alueturva.db import get_database
    from alueturva.errors import DomainError

    if not name.strip() or len(name) > 120:
        raise DomainError("--name must be 1 to 120 characters")
    with get_database().session() as session:
        api_key, plain = create_api_key(session, name=name.strip(), role=role, created_by=cli_principal())
        key_id = api_key.id
    say(f"created API key {key_id} ({role.value}); it is shown only now:", err=True)
    print(plain)


@apikey_app.command("list")
def apikey_list() -> None:
    """List API keys (never the keys themselves); times are Finnish time."""
    from rich.table import Table

    from alueturva.auth.service import list_api_keys
    from alueturva.db import get_database
    from alueturva.i18n import format_time

    table = Table("id", "name", "role", "prefix", "created", "revoked")
    with get_database().session() as session:
        for key in list_api_keys(session):
            revoked = format_time(key.revoked_at, "en") if key.revoked_at else ""
            table.add_row(str(key.id), key.name, key.role.value, key.prefix, format_time(key.created_at, "en"), revoked)
    show(table)


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: Annotated[int, typer.Argument(metavar="KEY", help="The key's id (see `apikey list`)")],
) -> None:
    """Revoke an API key; requests with it get 401 from now on."""
    from alueturva.auth.service import cli_principal, get_api_key, revoke_api_key
    from alueturva.db import get_database
    from alueturva.errors import DomainError

    with get_database().session() as session:
        api_key = get_api_key(session, key_id=key_id)
        if api_key is None:
            raise DomainError(f"no API key with id {key_id}")
        if api_key.revoked_at is None:
            revoke_api_key(session, api_key=api_key, revoked_by=cli_principal())
    say(f"API key {key_id} is revoked")


def _register_domain_commands() -> None:
    from alueturva.app.wiring import cli_apps

    for name, sub_app in cli_apps():
        app.add_typer(sub_app, name=name)


@app.command()
def demo() -> None:
    """Load the fictional demo roster (invented names, numbers reserved for drama and testing), a living situational
    picture (observations, a decision, status reports), a past drill and an action card in use, partly done."""
    from actioncards.demo import load_demo_cards
    from contacts.demo import load_demo_roster
    from drills.demo import load_demo_drill
    from situation.demo import load_demo_picture

    say(f"demo roster loaded: {load_demo_roster()}")
    say(load_demo_picture())
    say(load_demo_drill())
    say(load_demo_cards())


FIRST_ADMIN_EMAIL = "admin@localhost"
FIRST_START_FILE = "alueturva-first-admin.txt"  # in the working directory, next to the demo's .env


def _first_start(port: int) -> None:
    """On the first start (no API key and no account at all), make an admin API key and a web console admin account
    and show them where they cannot be missed; they are never shown again."""
    import secrets

    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text
    from sqlalchemy import func, select

    from alueturva.auth.models import ApiKey, User
    from alueturva.auth.service import SYSTEM, create_api_key
    from alueturva.auth.users import create_user
    from alueturva.db import get_database

    lines: list[str] = []
    copyable: list[str] = []  # printed below the box, unwrapped, so that they can be copied whole
    with get_database().session() as session:
        if not session.scalar(select(func.count(ApiKey.id))):
            _, plain = create_api_key(session, name="first admin (alueturva up)", role=Role.admin, created_by=SYSTEM)
            lines += [f"Admin API key: [bold]{plain}[/bold]", ""]
            copyable += [
                f"export KEY={plain}",
                f'curl -s -H "Authorization: Bearer $KEY" "http://127.0.0.1:{port}/api/v1/outbox"',
            ]
        if not session.scalar(select(func.count(User.id))):
            password = secrets.token_urlsafe(12)
            create_user(
                session, email=FIRST_ADMIN_EMAIL, name="Admin", role=Role.admin, password=password, actor=SYSTEM
            )
            lines += [
                f"Web console: http://127.0.0.1:{port}/  sign in as [bold]{FIRST_ADMIN_EMAIL}[/bold]",
                f"with the password [bold]{password}[/bold]",
                "",
            ]
    if not lines:
        say(
            "The first start's admin key and account exist (they were shown then); another key: alueturva apikey "
            f"create; a new password: alueturva user password {FIRST_ADMIN_EMAIL}"
        )
        return
    lines.append("Shown only now: keep them. More: alueturva apikey create, alueturva user create")
    if sys.stderr.isatty():  # a person at a terminal: shown there, never into a log that stderr is redirected to
        console = Console(stderr=True)
        console.print(Panel("\n".join(lines), title="first start: admin access", border_style="yellow"))
        for line in copyable:
            print(line, file=sys.stderr)
        return
    path = Path(FIRST_START_FILE).resolve()
    readable = [Text.from_markup(line).plain for line in lines]
    _write_owner_only(path, "\n".join([*readable, *copyable, ""]))
    say(
        f"first start: the admin API key and the web console password are in {path} (readable by its owner only); "
        "keep them and delete the file"
    )


def _write_owner_only(path: Path, content: str) -> None:
    """A new file only its owner may read (mode 0600 from its creation: never readable by others for a moment)."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(content)


def _trusted_proxies() -> str:
    """Behind a reverse proxy uvicorn takes the client address from ``X-Forwarded-For``, of these proxies only (the
    rate limits and ``/metrics`` depend on it)."""
    from alueturva.settings import get_settings

    return get_settings().forwarded_allow_ips


@app.command()
def up(
    demo_roster: Annotated[bool, typer.Option("--demo", help="Load the fictional demo roster first")] = False,
    host: Host = "127.0.0.1",
    port: Port = 8000,
) -> None:
    """Embedded default: API, one worker and the scheduler in one process (SQLite unless configured otherwise).
    The first start prints an admin API key and a web console
    admin account."""
    import uvicorn

    from alueturva.app.bootstrap import boot
    from alueturva.app.http import create_app
    from alueturva.app.wiring import periodic_tasks
    from alueturva.logging import configure_logging
    from alueturva.queue import get_queue, set_queue
    from alueturva.scheduler import build_scheduler

    if demo_roster:
        keep_demo_secret_key()
    _public_base_url_from(host, port)
    _check_configuration()
    _migrate()
    if demo_roster:
        demo()
    _first_start(port)
    configure_logging()
    boot(worker=True)  # the in-process worker's send path
    get_queue()
    scheduler = build_scheduler(periodic_tasks(demo=demo_roster), blocking=False)
    scheduler.start()
    try:
        uvicorn.run(
            create_app(),
            host=host,
            port=port,
            log_config=None,
            proxy_headers=True,
            forwarded_allow_ips=_trusted_proxies(),
        )
    finally:
        scheduler.shutdown(wait=False)
        set_queue(None)  # the in-process worker's threads stop and close their provider connections


@app.command()
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Annotated[int, typer.Option(min=1, metavar="N", help="API processes")] = 1,
) -> None:
    """Production API processes (run `db upgrade` first; workers and the scheduler run separately)."""
    import uvicorn

    from alueturva.logging import configure_logging

    _public_base_url_from(host, port)
    configure_logging()
    _check_configuration()
    uvicorn.run(
        "alueturva.app.http:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=_trusted_proxies(),
    )


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Exit when the queue is empty")] = False,
    fork: Annotated[
        bool, typer.Option(help="Run each job in a process of its own (RQ's forking worker; 25-40 ms slower a job)")
    ] = False,
) -> None:
    """An RQ worker (production; needs ALUETURVA_REDIS_URL). Run as many as you like, on any hosts."""
    from alueturva.app.bootstrap import boot
    from alueturva.logging import configure_logging
    from alueturva.queue import run_worker

    configure_logging()
    _check_configuration()
    boot(worker=True)
    run_worker(burst=burst, fork=fork)


@app.command()
def scheduler() -> None:
    """The periodic sweepers (production). Run exactly one."""
    from alueturva.app.wiring import periodic_tasks
    from alueturva.logging import configure_logging
    from alueturva.scheduler import build_scheduler

    configure_logging()
    _check_configuration()
    build_scheduler(periodic_tasks(), blocking=True).start()


def _booted(callback: Callable[..., Any]) -> Callable[..., Any]:
    """The command, run in a booted process (``alueturva.app.bootstrap``: a readiness decision's reactions reach the
    alerting domain, the picture knows drills)."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        from alueturva.app.bootstrap import boot

        boot()
        return callback(*args, **kwargs)

    return run


def _boot_before_running(command: Any) -> None:
    """Every command boots the process just before it runs (never for ``--help``, which stays quick)."""
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        command.callback = _booted(command.callback)
    for subcommand in (subcommands or {}).values():
        _boot_before_running(subcommand)


def _no_type(ctx: Any) -> None:
    return None


def _plain(command: Any) -> None:
    """Help in plain words: every option shows a word (its metavar, e.g. GROUP) instead of a Python type such as
    ``<list[str]>``, flags show none, and an argument shows its name (e.g. TITLE) without ``<str>``."""
    help_option = command.get_help_option(typer.Context(command))
    for param in [*command.params, *([help_option] if help_option else [])]:
        kind = getattr(param, "param_type_name", "")
        if param.metavar is None and kind == "option":
            param.metavar = "" if getattr(param, "is_flag", False) else (param.name or "").upper()
        elif kind == "argument":
            param.metavar = param.metavar or (param.name or "").upper()
            param.display_type_rich = _no_type
    for subcommand in getattr(command, "commands", {}).values():
        _plain(subcommand)


def _error_message(exc: Exception) -> str | None:
    """A known error as one line (never a traceback: it could show secrets); None for anything else."""
    from sqlalchemy.exc import DBAPIError

    from alueturva.config import ConfigError
    from alueturva.errors import DomainError

    if isinstance(exc, DomainError):
        return f"[red]error:[/red] {exc.detail}"
    if isinstance(exc, ConfigError):
        return f"[red]error:[/red] {exc}"
    if isinstance(exc, DBAPIError):
        return (
            f"[red]database error:[/red] {type(exc.orig).__name__}: {str(exc.orig).splitlines()[0]}\n"
            "Is ALUETURVA_DATABASE_URL right, and has `alueturva db upgrade` been run?"
        )
    return None


def main() -> None:
    _register_domain_commands()
    command = typer.main.get_command(app)
    _plain(command)
    _boot_before_running(command)
    try:
        command(prog_name="alueturva")
    except Exception as exc:
        message = _error_message(exc)
        if message is None:
            raise
        say(message, err=True)
        sys.exit(1)
