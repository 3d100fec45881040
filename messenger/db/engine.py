"""Async engine for SQLite (aiosqlite, WAL, busy timeout) or PostgreSQL (asyncpg)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

READ_ONLY = "messenger_read_only"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str) -> AsyncEngine:
    if is_sqlite(url):
        # hide_parameters: an SQL error message must never carry the values (tokens, digests)
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            # SQLAlchemy's recipe for the pysqlite-family drivers: let us issue BEGIN ourselves,
            # so SAVEPOINTs work and a transaction takes the write lock up front.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(connection: Any) -> None:
            # IMMEDIATE: no read-then-upgrade deadlock between our processes; WAL readers go on.
            # Read-only scopes (Database.reading) take no write lock.
            if connection.get_execution_options().get(READ_ONLY):
                connection.exec_driver_sql("BEGIN")
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=5,
        pool_pre_ping=True,
        hide_parameters=True,
        # asyncpg keeps prepared statements; after five runs PostgreSQL may switch them to a
        # generic plan, which cannot estimate a full-text query's selectivity (seen: 80 ms vs
        # 1 ms for directory searches). Our statements are cheap to plan each time.
        connect_args={"server_settings": {"plan_cache_mode": "force_custom_plan"}},
    )
