"""Schema migrations (Alembic), run by `alueturva db upgrade` and automatically by `alueturva up`.

The kernel knows no domain: the application hands in the metadata of every domain's tables when it needs them
compared (autogenerate); running the migrations needs only the migration scripts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData

from alueturva.db import make_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str, *, metadata: MetaData | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["target_metadata"] = metadata
    return config


@dataclass(frozen=True)
class Migrated:
    """The database's revisions before and after an upgrade (none before: it was new)."""

    before: tuple[str, ...]
    after: tuple[str, ...]

    @property
    def created(self) -> bool:
        return not self.before

    @property
    def changed(self) -> bool:
        return self.before != self.after


def revisions(url: str) -> tuple[str, ...]:
    """The migration revisions the database at ``url`` is at (empty for a new database)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))
    finally:
        engine.dispose()


def upgrade(url: str) -> Migrated:
    """Bring the database at ``url`` to the newest schema of every domain (all heads)."""
    before = revisions(url)
    command.upgrade(alembic_config(url), "heads")
    return Migrated(before=before, after=revisions(url))
