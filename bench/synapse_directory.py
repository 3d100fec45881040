"""The reference for the directory search: Synapse's own `/user_directory/search` over the same
providers as registered users of a plain Synapse (no module, no appservice), on the same database
engine, with the same 1,000 queries.

Each provider becomes a local user whose display name carries what our directory searches — name,
specialties, postcode and city — so both engines have the same words to find. The rows are written
the way Synapse's user directory writes them (`users`, `user_directory`, `user_directory_search`
with Synapse's own text filter) while Synapse is stopped: registering 250,000 accounts through the
API would take hours. Synapse searches with `search_all_users: true` and no rate limit; a search
is timed from the client (HTTP on loopback included), so `floor` — the median of a search that
finds nothing — says how much of a figure is Synapse's request handling rather than the index.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import psycopg2
import psycopg2.extras
from synapse.storage.databases.main.user_directory import _filter_text_for_index

from bench.plain_synapse import plain_system, register_plain, start_plain
from messenger.directory.records import ProviderRecord
from messenger.homeserver.port_db import sqlite_file
from messenger.homeserver.postgres import PostgresTarget, ensure_database
from tests.system import System

UNLIMITED = {"per_second": 1_000_000, "burst_count": 1_000_000}
BATCH = 5_000
NO_HIT = "zzqxvw"


def display_name(record: ProviderRecord) -> str:
    return f"{record.name}, {', '.join(record.specialties)}, {record.postcode} {record.city}"


def _rows(records: list[ProviderRecord], server_name: str) -> Iterator[tuple[str, str]]:
    for record in records:
        localpart = record.matrix_id[1:].split(":", 1)[0]
        yield f"@{localpart}:{server_name}", display_name(record)


def _batches(rows: Iterator[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    batch: list[tuple[str, str]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _fill_sqlite(path: Path, rows: Iterator[tuple[str, str]]) -> None:
    now = int(time.time())
    with sqlite3.connect(path) as db:
        for batch in _batches(rows):
            db.executemany(
                "INSERT INTO users (name, creation_ts, admin, is_guest, deactivated) "
                "VALUES (?, ?, 0, 0, 0)",
                [(user_id, now) for user_id, _ in batch],
            )
            db.executemany(
                "INSERT INTO user_directory (user_id, room_id, display_name, avatar_url) "
                "VALUES (?, NULL, ?, NULL)",
                batch,
            )
            db.executemany(
                "INSERT INTO user_directory_search (user_id, value) VALUES (?, ?)",
                [(u, f"{u} {_filter_text_for_index(name)}") for u, name in batch],
            )


def _fill_postgres(target: PostgresTarget, rows: Iterator[tuple[str, str]]) -> None:
    now = int(time.time())
    connection = target.connect(target.name)
    try:
        with connection, connection.cursor() as cursor:
            for batch in _batches(rows):
                psycopg2.extras.execute_values(
                    cursor,
                    "INSERT INTO users (name, creation_ts, admin, is_guest, deactivated) VALUES %s",
                    [(user_id, now, 0, 0, 0) for user_id, _ in batch],
                )
                psycopg2.extras.execute_values(
                    cursor,
                    "INSERT INTO user_directory (user_id, room_id, display_name, avatar_url) "
                    "VALUES %s",
                    [(u, None, name, None) for u, name in batch],
                )
                psycopg2.extras.execute_values(  # Synapse's own weighting (user_directory.py)
                    cursor,
                    "INSERT INTO user_directory_search (user_id, vector) VALUES %s",
                    [
                        (u, u[1:].split(":")[0], u.split(":", 1)[1], _filter_text_for_index(name))
                        for u, name in batch
                    ],
                    template="(%s, setweight(to_tsvector('simple', %s), 'A') || "
                    "setweight(to_tsvector('simple', %s), 'D') || "
                    "setweight(to_tsvector('simple', COALESCE(%s, '')), 'B'))",
                )
            cursor.execute("ANALYZE users, user_directory, user_directory_search")
    finally:
        connection.close()


def _pending_updates(system: System, target: PostgresTarget | None) -> int:
    query = "SELECT COUNT(*) FROM background_updates"
    if target is None:
        with sqlite3.connect(sqlite_file(system.settings)) as db:
            return int(db.execute(query).fetchone()[0])
    connection = target.connect(target.name)
    try:
        with connection.cursor() as cursor:
            cursor.execute(query)
            row = cursor.fetchone()
            return int(row[0]) if row else 0
    finally:
        connection.close()


async def _idle(system: System, target: PostgresTarget | None) -> None:
    """Synapse's schema work on a new database is done (it would race our rows otherwise)."""
    deadline = time.monotonic() + 180
    while _pending_updates(system, target):
        if time.monotonic() > deadline:
            raise TimeoutError("Synapse's background updates did not finish in 180 s")
        await asyncio.sleep(0.5)


@contextmanager
def _postgres(url: str | None) -> Iterator[PostgresTarget | None]:
    if url is None:
        yield None
        return
    base = PostgresTarget.from_url(url)
    name = f"messenger_bench_syn_{uuid.uuid4().hex[:8]}"
    target = PostgresTarget(base.host, base.port, base.user, base.password, name)
    user = f"{target.user}@" if target.user else ""
    ensure_database(f"postgresql://{user}{target.host}:{target.port}/{name}", for_synapse=True)
    try:
        yield target
    finally:
        admin = target.connect("postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _database(target: PostgresTarget) -> dict[str, Any]:
    args: dict[str, Any] = {"database": target.name, "host": target.host, "port": target.port}
    args.update(cp_min=1, cp_max=5)
    if target.user:
        args["user"] = target.user
    if target.password:
        args["password"] = target.password
    return {"name": "psycopg2", "args": args}


async def _timed(http: aiohttp.ClientSession, url: str, token: str, text: str) -> tuple[float, int]:
    started = time.perf_counter()
    async with http.post(
        url,
        json={"search_term": text, "limit": 10},
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        body = await response.json()
        if response.status != 200:
            raise RuntimeError(f"user directory search {text!r}: {response.status} {body}")
    return (time.perf_counter() - started) * 1000, len(body["results"])


async def reference(
    records: list[ProviderRecord], texts: list[str], postgres_url: str | None
) -> dict[str, float]:
    """p50/p99/max/floor (ms) and queries without a hit, for Synapse's user directory search."""
    with tempfile.TemporaryDirectory() as folder, _postgres(postgres_url) as target:
        extra: dict[str, Any] = {
            "user_directory": {"enabled": True, "search_all_users": True},
            "rc_user_directory": UNLIMITED,
        }
        if target is not None:
            extra["database"] = _database(target)
        system = plain_system(Path(folder), extra)
        await start_plain(system)
        try:
            searcher = await register_plain(system, "sucher")
            await _idle(system, target)
            system.synapse.stop()
            rows = _rows(records, system.settings.config.homeserver.server_name)
            if target is None:
                _fill_sqlite(sqlite_file(system.settings), rows)
            else:
                _fill_postgres(target, rows)
            await start_plain(system)
            url = system.hs_url + "/_matrix/client/v3/user_directory/search"
            token = searcher["access_token"]
            async with aiohttp.ClientSession() as http:
                for text in texts[:50]:  # warm caches
                    await _timed(http, url, token, text)
                floor = statistics.median([(await _timed(http, url, token, NO_HIT))[0]
                                           for _ in range(50)])  # fmt: skip
                measured = [await _timed(http, url, token, text) for text in texts]
        finally:
            system.synapse.stop()
    latencies = sorted(ms for ms, _ in measured)
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "max": latencies[-1],
        "floor": floor,
        "empty": sum(1 for _, hits in measured if not hits),
    }
