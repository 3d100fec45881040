"""Query-planner statistics for the embedded Synapse's SQLite database.

Synapse never runs ANALYZE on SQLite. Without statistics SQLite plans some of its queries
badly on large rooms: measured here, one page of /messages (1,000 events, with Synapse's edit
lookup) in a 100,000-message chat took 22 s; after ANALYZE, 0.17 s. The job
`homeserver_analyze` runs it daily (a write lock of a few seconds at that size); `messenger up`
only where the file has no statistics yet (an upgraded deployment), so that a start never
waits for a full ANALYZE of a large database. Only in the embedded mode: our deployment,
Synapse's file.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path

log = logging.getLogger(__name__)


def analyze(database: Path, busy_timeout_ms: int = 30_000) -> float | None:
    """ANALYZE the file if it exists; the seconds it took (None: no database yet)."""
    if not database.exists():
        return None
    started = time.perf_counter()
    with sqlite3.connect(database, timeout=busy_timeout_ms / 1000) as conn:
        conn.execute("ANALYZE")
    took = time.perf_counter() - started
    log.info("Synapse's SQLite statistics refreshed in %.1f s", took)
    return took


def has_statistics(database: Path) -> bool:
    if not database.exists():
        return False
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        found = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
    return found is not None


async def analyze_in_background(database: Path) -> float | None:
    return await asyncio.to_thread(analyze, database)
