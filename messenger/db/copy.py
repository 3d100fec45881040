"""Copying our own database from SQLite to PostgreSQL (`messenger migrate-db`).

The target gets the schema from the Alembic migrations first, then every table of the schema
row by row in foreign-key order, the directory's search index rebuilt for PostgreSQL (the FTS5
table is SQLite's own) and the id sequences moved past the copied ids. All of it in one
transaction on the target: a failure leaves it as it was. The source is only read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.database import Database
from messenger.db.schema import metadata
from messenger.db.stores.directory import replace_documents

BATCH = 2000
SEEDED = {"policy_clock"}  # rows the migrations themselves write: replaced by the source's


class CopyRefused(Exception):
    """The copy cannot start; the message says why."""


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows copied
    search_documents: int = 0

    @property
    def total(self) -> int:
        return sum(self.rows.values())


async def _rows(conn: AsyncConnection, table: sa.Table) -> int:
    return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


async def copy_database(
    source: Database, target: Database, on_table: Callable[[str, int], None] = lambda *_: None
) -> CopyReport:
    if source.dialect != "sqlite" or target.dialect != "postgresql":
        raise CopyRefused("the copy goes from SQLite to PostgreSQL only")
    await source.migrate()  # the source at this code's schema, so both sides match
    await target.migrate()
    report = CopyReport()
    async with source.reading() as read, target.engine.begin() as write:
        for table in metadata.sorted_tables:
            if table.name not in SEEDED and await _rows(write, table):
                raise CopyRefused(
                    f"the target database already holds data (table {table.name}); "
                    "migrate-db copies only into an empty database"
                )
        for table in metadata.sorted_tables:
            if table.name in SEEDED:
                await write.execute(table.delete())
            copied = 0
            result = await read.stream(sa.select(table))
            async for batch in result.partitions(BATCH):
                await write.execute(table.insert(), [dict(row._mapping) for row in batch])
                copied += len(batch)
            report.rows[table.name] = copied
            on_table(table.name, copied)
            if await _rows(write, table) != copied:
                raise CopyRefused(f"table {table.name}: the copy does not hold every row")
        documents = await read.execute(
            sa.text("SELECT rowid, name, specialty, place FROM provider_fts")
        )
        rows = [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in documents]
        await replace_documents(write, [], rows)
        report.search_documents = len(rows)
        for table in metadata.sorted_tables:
            column = table.autoincrement_column
            if column is None or not report.rows[table.name]:
                continue
            await write.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"(SELECT max({column.name}) FROM {table.name}))"
                )
            )
    return report
