"""The database handle every process holds: an engine plus transaction scopes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Insert
from sqlalchemy.sql.schema import Table

from messenger.db.engine import READ_ONLY, make_engine
from messenger.db.migrate import migrate

BEFORE_COMMIT = "before_commit"
NOTED_PREFIX = "noted_"  # what stores collect for their BEFORE_COMMIT hooks


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
        # called after a commit that ran BEFORE_COMMIT hooks (in this process)
        self.after_hooked_commit: list[Callable[[], None]] = []

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def migrate(self) -> tuple[str | None, str]:
        return await migrate(self.engine)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write scope. Stores may leave work for its end in `connection.info[BEFORE_COMMIT]`
        (a name -> coroutine function map): it runs last, inside the transaction."""
        async with self.engine.begin() as connection:
            # info lives with the pooled connection: nothing may leak to the next use. Taken
            # now, because a connection invalidated by a cancellation refuses to hand it out
            # later (and that error would swallow the cancellation)
            info = connection.info
            try:
                yield connection
                hooks = info.pop(BEFORE_COMMIT, {})
                for hook in hooks.values():
                    await hook(connection)
            finally:
                info.pop(BEFORE_COMMIT, None)
                for key in [k for k in info if k.startswith(NOTED_PREFIX)]:
                    del info[key]
        if hooks:
            for listener in self.after_hooked_commit:
                listener()

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
