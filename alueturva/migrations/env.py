"""Alembic environment: batch mode on SQLite so that ALTERs work there too."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from alueturva.db import Base, make_engine
from alueturva.wiring import import_models

import_models()
config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `alueturva db upgrade`")
run_migrations_online()
