"""Schema migrations (Alembic), run by `alueturva db upgrade` and automatically by `alueturva up`.

The kernel knows no domain: the application hands in the metadata of every domain's tables when it needs them
compared (autogenerate); running the migrations needs only the migration scripts.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str, *, metadata: MetaData | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["target_metadata"] = metadata
    return config


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the newest schema of every domain (all heads)."""
    command.upgrade(alembic_config(url), "heads")
