"""The last minutes of events sent to the appservice again after Synapse starts.

Synapse keeps the events it queued for the appservice behind a transaction in flight in memory
only, and notes them as handed over (`appservice_stream_position`) as soon as they are queued:
if Synapse crashes (killed, out of memory, the machine's power), those events never reach the
appservice - a chat request's join, a room's last activity. Before the Synapse process that
notifies the appservice starts, `messenger up` moves that position back to just before the
events received in the last REPLAY_MS before the newest one it had handed over. Synapse then
sends them again, in their order, with the next event on the server; the appservice takes every
event once (it deduplicates by event id for 7 days), so a replay after a clean stop only costs a
few transactions; after a stop longer than it remembers them, nothing is replayed. Synapse's own
tables, written only while no process that notifies the appservice runs.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from messenger.bridge.inbox import DEDUPE_RETENTION_MS
from messenger.homeserver.postgres import PostgresTarget

log = logging.getLogger(__name__)
REPLAY_MS = 120_000  # far longer than a transaction stays in flight (Synapse waits 60 s at most)
LOOK_BACK_ROWS = 20_000  # at most this many events replayed, whatever the rate was
# the inbox deduplicates by event id for DEDUPE_RETENTION_MS (7 days); a day less, to be safe
REMEMBERED_MS = DEDUPE_RETENTION_MS - 86_400_000
REPLAYED = "Synapse sends the appservice again the %d newest events it had handed over (%d -> %d)"


class Cursor(Protocol):
    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


@dataclass(frozen=True)
class Replay:
    handed_over: int  # the position Synapse had noted
    start: int  # where it starts again (equal: nothing to replay)

    @property
    def events(self) -> int:
        return self.handed_over - self.start


def replay_start(
    handed_over: int, recent: Iterable[tuple[int, int | None]], window_ms: int, now: int
) -> int:
    """The position to send again from: just before the oldest of `recent` (stream ordering,
    received at) received within `window_ms` of the newest of them. Never after `handed_over`;
    nothing when the newest is so old that the appservice no longer remembers those events
    (they would be taken twice)."""
    stamped = [(ordering, at) for ordering, at in recent if at is not None and ordering > 0]
    if not stamped:
        return handed_over
    newest = max(at for _, at in stamped)
    if newest < now - REMEMBERED_MS:
        return handed_over
    oldest = min(ordering for ordering, at in stamped if at >= newest - window_ms)
    return min(handed_over, oldest - 1)


def _rewind(cursor: Cursor, mark: str) -> Replay | None:
    """None when Synapse has no such tables yet (a first start). With a replay, also drops the
    transactions that were in flight when Synapse stopped, of every appservice it had not
    marked down (the position, and so the replay, is one for all of them): Synapse retries a
    stored transaction only for an appservice it marked down, otherwise not until the next
    outage - maybe weeks later, when the appservice no longer remembers its events. Their
    events lie inside the replay (in flight for at most 60 s). Without a replay they stay."""
    cursor.execute("SELECT stream_ordering FROM appservice_stream_position")
    row = cursor.fetchone()
    if row is None or row[0] is None:
        return None
    handed_over = int(row[0])
    cursor.execute(
        f"SELECT stream_ordering, received_ts FROM events WHERE stream_ordering <= {mark} "
        f"ORDER BY stream_ordering DESC LIMIT {mark}",
        (handed_over, LOOK_BACK_ROWS),
    )
    start = replay_start(handed_over, cursor.fetchall(), REPLAY_MS, int(time.time() * 1000))
    if start < handed_over:
        cursor.execute(
            "DELETE FROM application_services_txns WHERE NOT EXISTS (SELECT 1 FROM "
            "application_services_state AS s WHERE s.as_id = application_services_txns.as_id "
            "AND s.state = 'down')"
        )
        cursor.execute(
            f"UPDATE appservice_stream_position SET stream_ordering = {mark} "
            f"WHERE stream_ordering = {mark}",
            (start, handed_over),
        )
    return Replay(handed_over, start)


def _logged(replay: Replay | None) -> Replay | None:
    if replay is not None and replay.events:
        log.info(REPLAYED, replay.events, replay.handed_over, replay.start)
    return replay


def rewind_sqlite(database: Path) -> Replay | None:
    """The embedded Synapse's file (None while it does not exist or has no tables yet)."""
    if not database.exists():
        return None
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn, conn:
        try:
            return _logged(_rewind(conn.cursor(), "?"))
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return None
            raise


def rewind_postgres(url: str) -> Replay | None:
    """The scaled deployment's Synapse database (None while its tables do not exist yet)."""
    from psycopg2 import errors

    target = PostgresTarget.from_url(url)
    connection = target.connect(target.name)
    try:
        with connection, connection.cursor() as cursor:
            return _logged(_rewind(cursor, "%s"))
    except errors.UndefinedTable:
        return None
    finally:
        connection.close()
