"""Alembic environment: batch mode on SQLite so that ALTERs work there too."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from alueturva.db import make_engine

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        # handed in by the application (alueturva.app.wiring) when it compares models with migrations
        target_metadata=config.attributes.get("target_metadata"),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    connection.commit()
    if broken:
        raise RuntimeError(f"migration left {len(broken)} broken foreign key reference(s): {broken[:5]}")


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "", sqlite_foreign_keys=False)
    try:
        with engine.connect() as connection:
            _run(connection)
            if connection.dialect.name == "sqlite":
                _check_foreign_keys(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `alueturva db upgrade`")
run_migrations_online()
