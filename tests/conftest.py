"""Test fixtures: a real database (PostgreSQL or SQLite, chosen by ALUETURVA_TEST_DB), the app, and API keys.

Each pytest process (one per run, or one per pytest-xdist worker) gets its own PostgreSQL database (created from the
admin URL, dropped at the end), migrated once; each test starts from the seeded reference data. SQLite tests copy a
migrated template file per test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from alerting.send_loop import close_send_loop
from alueturva.app.wiring import metadata, prepare_database, seed_reference_data
from alueturva.auth.models import Role
from alueturva.auth.service import SYSTEM, create_api_key
from alueturva.db import Database, set_database
from alueturva.queue import InProcessQueue, set_queue
from alueturva.settings import get_settings

pytest_plugins = ["tests.support.fixtures"]

PG_ADMIN_URL = os.environ.get("ALUETURVA_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKEND = os.environ.get("ALUETURVA_TEST_DB", "postgresql")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests run last: Playwright's sync API keeps an event loop running in the main thread until the
    session ends, and the tests that start asyncio loops of their own (asyncio.run) must run before it."""
    items.sort(key=lambda item: item.path.parent.name == "browser")


def pytest_report_header() -> str:
    return f"alueturva test database: {BACKEND}"


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, seeded database for this run: a PostgreSQL database URL or an SQLite template file path."""
    metadata()  # every domain's tables known, for truncating between tests
    if BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("db") / "template.db"
        prepare_database(f"sqlite:///{path}")
        yield str(path)
        return
    name = f"alueturva_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    prepare_database(url)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# The sequences that belong to the tables' columns (serial or identity): TRUNCATE ... RESTART IDENTITY resets these.
_OWNED_SEQUENCES = text(
    "SELECT format('%I.%I', n.nspname, s.relname) FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace "
    "JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
    "WHERE s.relkind = 'S'"
)


def _empty_every_table(engine: Engine) -> None:
    """Every table emptied and its ids starting at 1 again, as TRUNCATE ... RESTART IDENTITY leaves them, but about
    six times faster (6 against 110 ms for the 45 tables, mostly empty or nearly so; this runs before every test).

    The rows are deleted with triggers off (``session_replication_role = replica``: no foreign-key checks, and the
    audit log's append-only trigger stays out of the way): every row of every table goes, so no reference is left
    dangling. That takes a superuser; a test role without it gets the TRUNCATE."""
    tables = [table.name for table in reversed(metadata().sorted_tables)]
    with engine.begin() as conn:
        try:
            with conn.begin_nested():
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        except DBAPIError:
            quoted = ", ".join(f'"{name}"' for name in tables)
            conn.exec_driver_sql(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
            return
        for name in tables:
            conn.exec_driver_sql(f'DELETE FROM "{name}"')
        sequences = conn.scalars(_OWNED_SEQUENCES).all()
        if sequences:
            conn.execute(
                text("SELECT " + ", ".join(f"setval(:s{n}, 1, false)" for n in range(len(sequences)))),
                {f"s{n}": name for n, name in enumerate(sequences)},
            )


def _fresh_url(template: str, tmp_path: Path) -> str:
    if BACKEND == "sqlite":
        path = tmp_path / "alueturva.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    engine = create_engine(template)
    try:
        _empty_every_table(engine)
    finally:
        engine.dispose()
    database = Database(template)
    with database.session() as session:
        seed_reference_data(session)
    database.dispose()
    return template


@pytest.fixture
def database_url(database_template: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = _fresh_url(database_template, tmp_path)
    monkeypatch.setenv("ALUETURVA_DATABASE_URL", url)
    monkeypatch.setenv("ALUETURVA_SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
    monkeypatch.delenv("ALUETURVA_REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    set_database(db)
    yield db
    close_send_loop()  # a test that ran a send job in its own thread: its provider connections
    set_database(None)


@pytest.fixture
def queue(database: Database) -> Iterator[InProcessQueue]:
    in_process = InProcessQueue(workers=2)
    set_queue(in_process)
    yield in_process
    set_queue(None)


@pytest.fixture
def client(database: Database, queue: InProcessQueue) -> Iterator[TestClient]:
    from alueturva.app.http import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def keys(database: Database) -> dict[Role, str]:
    """One API key per role, as plain text."""
    plain: dict[Role, str] = {}
    with database.session() as session:
        for role in Role:
            _, plain[role] = create_api_key(session, name=f"test {role.value}", role=role, created_by=SYSTEM)
    return plain


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
