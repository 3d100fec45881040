"""The export's scratch file: every entry and edit of a chat as it is read (newest first, from
/messages going back), so that the chat can then be written oldest first with each message's
final text and its replies' quotes — in memory that does not grow with the chat's length.

A temporary SQLite file (stdlib sqlite3) in the exporter's private temporary folder, deleted
after the run; it holds what the export file will hold.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from messenger.export.entries import Edit, Entry

_SCHEMA = """
CREATE TABLE entries (seq INTEGER PRIMARY KEY, event_id TEXT UNIQUE, sender TEXT NOT NULL,
                      data TEXT NOT NULL);
CREATE TABLE edits (target TEXT NOT NULL, sender TEXT NOT NULL, ts INTEGER NOT NULL,
                    body TEXT NOT NULL);
CREATE INDEX edits_target ON edits (target, sender, ts);
"""


class Spool:
    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path)
        self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        self._seq = 0

    def close(self) -> None:
        self._db.close()

    def add(self, items: list[Entry | Edit]) -> None:
        """One page of /messages, newest first."""
        rows: list[tuple[int, str, str, str]] = []
        edits: list[tuple[str, str, int, str]] = []
        for item in items:
            if isinstance(item, Edit):
                edits.append((item.target, item.sender, item.ts, item.body))
            else:
                self._seq -= 1
                rows.append((self._seq, item.event_id, item.sender, json.dumps(item.as_json())))
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO entries VALUES (?, ?, ?, ?)", rows)
            self._db.executemany("INSERT INTO edits VALUES (?, ?, ?, ?)", edits)

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM entries").fetchone()[0])

    def entries(self) -> Iterator[tuple[Entry, Edit | None]]:
        """Oldest first, each with its final edit by its own sender (found by the database in
        the same pass, not by one query per message)."""
        cursor = self._db.execute(
            "SELECT e.data, x.ts, x.body FROM entries e LEFT JOIN edits x ON x.rowid = ("
            " SELECT rowid FROM edits WHERE target = e.event_id AND sender = e.sender"
            " ORDER BY ts DESC LIMIT 1) ORDER BY e.seq"
        )
        for data, ts, body in cursor:
            entry = Entry.from_json(json.loads(data))
            edit = (
                Edit(entry.event_id, entry.sender, int(ts), str(body)) if ts is not None else None
            )
            yield entry, edit

    def get(self, event_id: str) -> Entry | None:
        row = self._db.execute(
            "SELECT data FROM entries WHERE event_id = ?", (event_id,)
        ).fetchone()
        return Entry.from_json(json.loads(row[0])) if row else None

    def final_edit(self, target: str, sender: str) -> Edit | None:
        """The newest edit by the message's own sender (edits by anyone else do not count)."""
        row = self._db.execute(
            "SELECT ts, body FROM edits WHERE target = ? AND sender = ? ORDER BY ts DESC LIMIT 1",
            (target, sender),
        ).fetchone()
        return Edit(target, sender, int(row[0]), str(row[1])) if row else None
