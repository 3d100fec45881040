"""Apply the Alembic migrations at start, refusing databases we must not touch.

Refuses: a database that holds Synapse's tables (ours is separate, always), and a schema newer
than this code (a newer release migrated it; running old code on it could corrupt data).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_SYNAPSE_MARKERS = {"events", "room_memberships", "event_json", "state_groups"}


class DatabaseRefused(Exception):
    """The database cannot be used by this code; the message says why and what to do."""


def _alembic_config(connection: sa.Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def _check_and_upgrade(connection: sa.Connection) -> tuple[str | None, str]:
    tables = set(sa.inspect(connection).get_table_names())
    if len(tables & _SYNAPSE_MARKERS) >= 2:
        raise DatabaseRefused(
            "this database holds Synapse's tables; messenger needs a database of its own "
            "(set database.url to another database)"
        )
    script = ScriptDirectory.from_config(_alembic_config())
    current = MigrationContext.configure(connection).get_current_revision()
    if current is not None:
        try:
            script.get_revision(current)
        except Exception:
            raise DatabaseRefused(
                f"the database schema is at revision {current}, which this version of messenger "
                "does not know (it is newer); upgrade messenger before starting it on this database"
            ) from None
    command.upgrade(_alembic_config(connection), "head")
    return current, head_revision()


async def migrate(engine: AsyncEngine) -> tuple[str | None, str]:
    """Bring the schema to head. Returns (revision before, revision after)."""
    async with engine.begin() as connection:
        return await connection.run_sync(_check_and_upgrade)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
