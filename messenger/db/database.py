"""The database handle every process holds: an engine plus transaction scopes."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Insert
from sqlalchemy.sql.schema import Table

from messenger.db.engine import READ_ONLY, is_sqlite, make_engine
from messenger.db.migrate import migrate

BEFORE_COMMIT = "before_commit"
NOTED_PREFIX = "noted_"  # what stores collect for their BEFORE_COMMIT hooks


def now_ms() -> int:
    return int(time.time() * 1000)


def retry_delay_ms(attempts: int) -> int:
    """The pause before the next try of a failed send: 5 s, doubling, at most an hour."""
    delay: int = min(5_000 * 2**attempts, 3_600_000)
    return delay


def _commit_signal(url: str) -> Path | None:
    """A file database's signal file (beside it): touched after every hooked commit, by every
    process, so that another process sees the change with a stat instead of a query."""
    if not is_sqlite(url):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database + ".changed")


def touch(path: Path) -> None:
    with contextlib.suppress(OSError):  # a missing folder or a read-only disk: readers poll
        path.touch()


def stamp(path: Path) -> int | None:
    """The signal file's modification time (ns); None while it does not exist."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine = make_engine(url)
        # called after a commit that ran BEFORE_COMMIT hooks (in this process)
        self.after_hooked_commit: list[Callable[[], None]] = []
        # SQLite: touched after such a commit (what NOTIFY is on PostgreSQL, for other processes)
        self.commit_signal = _commit_signal(url)

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
            if self.commit_signal is not None:
                touch(self.commit_signal)
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
