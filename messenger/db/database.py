"""The database handle every process holds: an engine plus transaction scopes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Insert
from sqlalchemy.sql.schema import Table

from messenger.db.engine import READ_ONLY, make_engine
from messenger.db.migrate import migrate


def now_ms() -> int:
    return int(time.time() * 1000)


def retry_delay_ms(attempts: int) -> int:
    """The pause before the next try of a failed send: 5 s, doubling, at most an hour."""
    delay: int = min(5_000 * 2**attempts, 3_600_000)
    return delay


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine = make_engine(url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def migrate(self) -> tuple[str | None, str]:
        return await migrate(self.engine)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as connection:
            yield connection

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A read-only scope: on SQLite it takes no write lock (readers never wait on writers)."""
        async with self.engine.connect() as connection:
            await connection.execution_options(**{READ_ONLY: True})
            async with connection.begin():
                yield connection

    async def close(self) -> None:
        await self.engine.dispose()


def insert_ignoring_duplicates(connection: AsyncConnection, table: Table) -> Insert:
    """INSERT that silently skips rows whose unique key exists (SQLite and PostgreSQL)."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()
