"""Database kernel: declarative base, a UTC-only datetime type, engines and sessions for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    DateTime,
    Float,
    Integer,
    MetaData,
    any_,
    bindparam,
    cast,
    create_engine,
    event,
    literal,
)
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType, String, TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python and refuses naive datetimes.

    SQLite has no time zone support, so values are stored there as naive UTC and made aware again on load.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused: {value!r}; use a timezone-aware UTC datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value if value.tzinfo is UTC else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def id_in(session: Session, column: InstrumentedAttribute[int], ids: Collection[int]) -> ColumnElement[bool]:
    """``column IN (ids)``; on PostgreSQL ``column = ANY(CAST(:array AS INTEGER[]))``, one parameter however many ids
    there are. The array goes as its text (``{1,2,3}``), which PostgreSQL parses: psycopg's own list dumper checks
    every element with a regular expression, which was most of the CPU of a 10,000-person alert's transaction.

    The parameter has no type of its own (psycopg sends a string as "unknown"), so PostgreSQL reads it as the
    array itself, a constant its planner can hash. Sent as text and cast (``CAST(:text::VARCHAR AS INTEGER[])``),
    the cast ran at execution, and a sequential scan compared each row with every id in turn: 5.6 s instead of
    6 ms for 10,000 ids against a table whose statistics were older than its rows (``bench.report``,
    ``auto_explain``)."""
    if session.get_bind().dialect.name == "postgresql":
        array = "{" + ",".join(map(str, map(int, ids))) + "}"
        return column == any_(cast(bindparam(None, array, type_=NullType()), ARRAY(Integer)))
    return column.in_(list(ids))


SQLTime = ColumnElement[datetime] | ColumnElement[datetime | None] | InstrumentedAttribute[Any]


class SecondsBetween(FunctionElement[float]):
    """``later - earlier`` in seconds, in SQL, on both databases (times are aware UTC)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(SecondsBetween, "postgresql")
def _seconds_between_postgresql(element: SecondsBetween, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


@compiles(SecondsBetween, "sqlite")
def _seconds_between_sqlite(element: SecondsBetween, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def seconds_between(later: SQLTime, earlier: SQLTime) -> SecondsBetween:
    return SecondsBetween(later, earlier)


class FloorDivide(FunctionElement[int]):
    """``floor(value / divisor)`` for a non-negative value, as an integer, on both databases."""

    type = Integer()
    inherit_cache = True
    name = "floor_divide"


@compiles(FloorDivide, "postgresql")
def _floor_divide_postgresql(element: FloorDivide, compiler: Any, **kw: Any) -> str:
    value, divisor = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(FLOOR(({value}) / ({divisor})) AS INTEGER)"


@compiles(FloorDivide, "sqlite")
def _floor_divide_sqlite(element: FloorDivide, compiler: Any, **kw: Any) -> str:
    value, divisor = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(({value}) / ({divisor}) AS INTEGER)"  # truncation is the floor of a non-negative value


def floor_divide(value: ColumnElement[Any], divisor: float) -> FloorDivide:
    return FloorDivide(value, literal(divisor, Float()))


class random_token(FunctionElement[str]):  # lower case: used like a SQL function
    """32 random hex characters made by the database for each row, from its strong random source: PostgreSQL's
    ``gen_random_uuid()`` (122 random bits), SQLite's ``randomblob(16)``. For tokens written by ``INSERT ... SELECT``,
    where no row passes through Python."""

    type = String(32)
    inherit_cache = True


@compiles(random_token, "postgresql")
def _random_token_postgresql(element: random_token, compiler: SQLCompiler, **kw: Any) -> str:
    return "replace(gen_random_uuid()::text, '-', '')"


@compiles(random_token, "sqlite")
def _random_token_sqlite(element: random_token, compiler: SQLCompiler, **kw: Any) -> str:
    return "lower(hex(randomblob(16)))"


def _configure_sqlite(engine: Engine, *, foreign_keys: bool) -> None:
    """Foreign keys on, WAL, and BEGIN IMMEDIATE so that concurrent writers wait instead of deadlocking."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's begin event emit BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA secure_delete=ON")  # freed space is overwritten: an erased number is gone from the file
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


CONNECT_TIMEOUT_SECONDS = 5
POOL_TIMEOUT_SECONDS = 10


def make_engine(url: str, *, sqlite_foreign_keys: bool = True, **kwargs: Any) -> Engine:
    """An engine for ``url``. Migrations turn SQLite's foreign keys off (Alembic's batch mode recreates tables,
    which must not cascade) and check them afterwards."""
    kwargs.setdefault("hide_parameters", True)  # an error's log never carries a row's names or numbers
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _configure_sqlite(engine, foreign_keys=sqlite_foreign_keys)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # a database that does not answer is an error within seconds (the API answers 503), never a hang
    kwargs.setdefault("pool_timeout", POOL_TIMEOUT_SECONDS)
    # Sessions in UTC: psycopg then gives every timestamp with ``datetime.UTC`` itself, which ``UTCDateTime`` keeps as
    # it is (with a server's ``Etc/UTC`` it gave a ZoneInfo, converted once more for each of a report's 90,000 times).
    kwargs.setdefault("connect_args", {"connect_timeout": CONNECT_TIMEOUT_SECONDS, "options": "-c TimeZone=UTC"})
    return create_engine(url, **kwargs)


def overwrite_freed_space(engine: Engine) -> None:
    """After an erasure: on SQLite, write the write-ahead log's pages into the database file and empty the log, so
    that no old copy of a changed page remains (``secure_delete`` has zeroed the freed space in the new ones). On
    PostgreSQL old row versions stay in the table's pages until VACUUM reuses them (docs/personal-data.md §3)."""
    if engine.dialect.name != "sqlite":
        return
    connection = engine.raw_connection()
    try:
        connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
    finally:
        connection.close()


def refresh_statistics(engine: Engine, tables: Collection[str]) -> None:
    """``ANALYZE`` these tables now, on PostgreSQL (SQLite keeps no statistics unless asked, and is not asked).

    For after a bulk write that changes a table's shape faster than autovacuum notices (it looks once a minute):
    PostgreSQL plans from the statistics it has, and statistics taken while a table was nearly empty make it scan
    the whole table for each of a batch's rows (docs/architecture.md §4)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE " + ", ".join(f'"{table}"' for table in tables))


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self.sessionmaker() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


_database: Database | None = None


def get_database() -> Database:
    global _database
    if _database is None:
        from alueturva.settings import get_settings

        _database = Database(get_settings().database_url)
    return _database


def set_database(database: Database | None) -> None:
    """Replace the process-wide database (the CLI and the tests point it at another URL)."""
    global _database
    if _database is not None and _database is not database:
        _database.dispose()
    _database = database
