"""Schema migrations (Alembic), run by `alueturva db upgrade` and automatically by `alueturva up`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the newest schema of every domain (all heads)."""
    command.upgrade(alembic_config(url), "heads")


def prepare_database(url: str) -> None:
    """Migrate, then seed the reference data: what `alueturva db upgrade` does."""
    from alueturva.db import Database
    from alueturva.wiring import seed_reference_data

    upgrade(url)
    database = Database(url)
    try:
        with database.session() as session:
            seed_reference_data(session)
    finally:
        database.dispose()
