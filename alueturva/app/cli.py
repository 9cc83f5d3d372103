"""The `alueturva` command line (docs/architecture.md §5)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.exc import DBAPIError

from alueturva.auth.models import Role
from alueturva.config import ConfigError
from alueturva.errors import DomainError

# Pretty tracebacks are off: they print local variables, which can hold secrets and personal data.
app = typer.Typer(
    help="Alueturva: preparedness situational awareness and alerting.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(apikey_app, name="apikey")

console = Console()
err_console = Console(stderr=True)


def _database_url() -> str:
    from alueturva.settings import get_settings

    return get_settings().database_url


EXIT_BAD_CONFIGURATION = 2


def configuration_problems() -> list[str]:
    """Every setting checked together (``alueturva.config_check``), then every configuration file."""
    from alueturva.app.wiring import validate_configuration
    from alueturva.config_check import load_problems
    from alueturva.settings import get_settings

    settings, problems = load_problems()
    if settings is None:
        return problems
    get_settings.cache_clear()
    try:
        validate_configuration()
    except ConfigError as exc:
        problems.append(str(exc))
    return problems


def _check_configuration() -> None:
    """Stop before serving anything when a setting or a configuration file is wrong, listing all (exit 2)."""
    problems = configuration_problems()
    if problems:
        err_console.print("[red]the configuration is not usable:[/red]", markup=True)
        for problem in problems:
            err_console.print(f"  - {problem}", markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_CONFIGURATION)


@app.command("check-config")
def check_config() -> None:
    """Check every setting and configuration file together; list what is wrong (exit status 2)."""
    _check_configuration()
    console.print("the configuration is usable")


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
    err_console.print(f"made a secret key for this demo and kept it in {env_file}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema and seed the reference data."""
    from alueturva.app.wiring import prepare_database

    _check_configuration()
    prepare_database(_database_url())
    console.print("database is up to date")


@apikey_app.command("create")
def apikey_create(
    role: Annotated[Role, typer.Option(help="admin, operator, reporter or viewer")],
    name: Annotated[str, typer.Option(help="Who or what uses the key")],
) -> None:
    """Create an API key and print it once; only its hash is stored."""
    from alueturva.auth.service import cli_principal, create_api_key
    from alueturva.db import get_database

    if not name.strip() or len(name) > 120:
        raise DomainError("--name must be 1 to 120 characters")
    with get_database().session() as session:
        api_key, plain = create_api_key(session, name=name.strip(), role=role, created_by=cli_principal())
        key_id = api_key.id
    err_console.print(f"created API key {key_id} ({role.value}); it is shown only now:")
    print(plain)


@apikey_app.command("list")
def apikey_list() -> None:
    """List API keys (never the keys themselves)."""
    from rich.table import Table

    from alueturva.auth.service import list_api_keys
    from alueturva.db import get_database

    table = Table("id", "name", "role", "prefix", "created", "revoked")
    with get_database().session() as session:
        for key in list_api_keys(session):
            revoked = f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else ""
            table.add_row(
                str(key.id), key.name, key.role.value, key.prefix, f"{key.created_at:%Y-%m-%d %H:%M}", revoked
            )
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(key_id: Annotated[int, typer.Argument(help="The key's id (see `apikey list`)")]) -> None:
    """Revoke an API key; requests with it get 401 from now on."""
    from alueturva.auth.service import cli_principal, get_api_key, revoke_api_key
    from alueturva.db import get_database

    with get_database().session() as session:
        api_key = get_api_key(session, key_id=key_id)
        if api_key is None:
            raise DomainError(f"no API key with id {key_id}")
        if api_key.revoked_at is None:
            revoke_api_key(session, api_key=api_key, revoked_by=cli_principal())
    console.print(f"API key {key_id} is revoked")


def _register_domain_commands() -> None:
    from alueturva.app.wiring import cli_apps

    for name, sub_app in cli_apps():
        app.add_typer(sub_app, name=name)


@app.command()
def demo() -> None:
    """Load the fictional demo roster (invented names, numbers reserved for drama and testing)."""
    from alueturva.db import get_database
    from contacts.demo import load_demo_roster

    with get_database().session() as session:
        summary = load_demo_roster(session)
    console.print(f"demo roster loaded: {summary}")


def _trusted_proxies() -> str:
    """Behind a reverse proxy uvicorn takes the client address from ``X-Forwarded-For``, of these proxies only (the
    rate limits and ``/metrics`` depend on it)."""
    from alueturva.settings import get_settings

    return get_settings().forwarded_allow_ips


@app.command()
def up(
    demo_roster: Annotated[bool, typer.Option("--demo", help="Load the fictional demo roster first")] = False,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
) -> None:
    """Embedded default: API, one worker and the scheduler in one process (SQLite unless configured otherwise)."""
    import uvicorn

    from alueturva.app.http import create_app
    from alueturva.app.wiring import periodic_tasks, prepare_database
    from alueturva.logging import configure_logging
    from alueturva.queue import get_queue
    from alueturva.scheduler import build_scheduler

    configure_logging()
    if demo_roster:
        keep_demo_secret_key()
    _check_configuration()
    prepare_database(_database_url())
    if demo_roster:
        demo()
    get_queue()
    scheduler = build_scheduler(periodic_tasks(), blocking=False)
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


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="API processes")] = 1,
) -> None:
    """Production API processes (run `db upgrade` first; workers and the scheduler run separately)."""
    import uvicorn

    from alueturva.logging import configure_logging

    configure_logging()
    _check_configuration()
    uvicorn.run(
        "alueturva.app.http:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=_trusted_proxies(),
    )


@app.command()
def worker(burst: Annotated[bool, typer.Option(help="Exit when the queue is empty")] = False) -> None:
    """An RQ worker (production; needs ALUETURVA_REDIS_URL). Run as many as you like, on any hosts."""
    from alueturva.logging import configure_logging
    from alueturva.queue import run_worker

    configure_logging()
    _check_configuration()
    run_worker(burst=burst)


@app.command()
def scheduler() -> None:
    """The periodic sweepers (production). Run exactly one."""
    from alueturva.app.wiring import periodic_tasks
    from alueturva.logging import configure_logging
    from alueturva.scheduler import build_scheduler

    configure_logging()
    _check_configuration()
    build_scheduler(periodic_tasks(), blocking=True).start()


def main() -> None:
    from alueturva.app.wiring import connect_domains

    _register_domain_commands()
    connect_domains()
    try:
        app()
    except (DomainError, ConfigError) as exc:
        err_console.print(f"[red]error:[/red] {exc.detail if isinstance(exc, DomainError) else exc}", markup=True)
        sys.exit(1)
    except DBAPIError as exc:
        err_console.print(
            f"[red]database error:[/red] {type(exc.orig).__name__}: {str(exc.orig).splitlines()[0]}\n"
            "Is ALUETURVA_DATABASE_URL right, and has `alueturva db upgrade` been run?",
            markup=True,
        )
        sys.exit(1)
