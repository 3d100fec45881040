"""Migrations run from empty on SQLite and PostgreSQL; foreign or newer databases are refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from messenger.db.database import Database
from messenger.db.migrate import DatabaseRefused, current_revision, head_revision


async def test_migrations_run_from_empty_and_are_idempotent(fresh_db: Database) -> None:
    before, after = await fresh_db.migrate()
    assert before is None and after == head_revision()
    assert await fresh_db.migrate() == (head_revision(), head_revision())
    async with fresh_db.transaction() as conn:
        tables = await conn.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
    assert {
        "accounts",
        "bot_devices",
        "appservice_txns",
        "inbox_events",
        "rooms",
        "room_members",
    } <= tables


async def test_database_holding_synapse_tables_is_refused(fresh_db: Database) -> None:
    async with fresh_db.transaction() as conn:
        await conn.execute(sa.text("CREATE TABLE events (event_id TEXT)"))
        await conn.execute(sa.text("CREATE TABLE room_memberships (event_id TEXT)"))
    with pytest.raises(DatabaseRefused, match="Synapse"):
        await fresh_db.migrate()
    assert await current_revision(fresh_db.engine) is None  # nothing was changed


async def test_schema_newer_than_code_is_refused(fresh_db: Database) -> None:
    await fresh_db.migrate()
    async with fresh_db.transaction() as conn:
        await conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DatabaseRefused, match="newer"):
        await fresh_db.migrate()
