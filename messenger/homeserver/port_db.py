"""Moving the embedded Synapse's SQLite database to PostgreSQL with Synapse's own tool,
`synapse_port_db` (it copies every table, checks the counts, and can be run again after a
failure). Afterwards a marker beside the SQLite file records the move: `messenger up` refuses a
scaled start while an unmoved SQLite database lies there, so no deployment starts empty by
mistake next to its data."""

from __future__ import annotations

import datetime as dt
import json
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from messenger.homeserver.postgres import PostgresTarget
from messenger.homeserver.synapse_config import BASE, HEADER, overlay, write_private
from messenger.homeserver.workers import synapse_database
from messenger.settings import Settings

MARKER = "homeserver.db.migrated.json"


class PortError(Exception):
    pass


def sqlite_file(settings: Settings) -> Path:
    return settings.synapse_dir / "homeserver.db"


def unmoved_sqlite(settings: Settings) -> Path | None:
    """The embedded deployment's Synapse database if it has not been moved yet."""
    path = sqlite_file(settings)
    return path if path.exists() and not (settings.synapse_dir / MARKER).exists() else None


UPDATES_TIMEOUT_S = 3600.0
# Synapse's streams and the PostgreSQL sequences that number them (its MultiWriterIdGenerators)
STREAM_SEQUENCES = {
    "to_device": "device_inbox_sequence",
    "account_data": "account_data_sequence",
    "receipts": "receipts_sequence",
    "presence_stream": "presence_stream_sequence",
    "events": "events_stream_seq",
    "pushers": "pushers_sequence",
    "push_rules_stream": "push_rules_stream_sequence",
    "caches": "cache_invalidation_stream_seq",
    "e2e_cross_signing_keys": "e2e_cross_signing_keys_sequence",
    "thread_subscriptions": "thread_subscriptions_sequence",
    "profile_updates": "profile_updates_sequence",
    "sticky_events": "sticky_events_sequence",
    "un_partial_stated_event_stream": "un_partial_stated_event_stream_sequence",
    "un_partial_stated_room_stream": "un_partial_stated_room_stream_sequence",
}


def pending_background_updates(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM background_updates").fetchone()[0])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def finish_background_updates(settings: Settings, on_line: Callable[[str], None]) -> None:
    """synapse_port_db refuses a database with pending background updates (schema work Synapse
    does after a start or an upgrade): run the embedded Synapse once more, alone, on a free
    loopback port, until they are done."""
    path = sqlite_file(settings)
    pending = pending_background_updates(path)
    if not pending:
        return
    on_line(f"{pending} background update(s) of Synapse pending: running Synapse to finish them")
    data = overlay(settings, scaled=False)
    data["listeners"] = [{"port": _free_port(), "bind_addresses": ["127.0.0.1"], "type": "http",
                          "resources": [{"names": ["client"]}]}]  # fmt: skip
    data["background_updates"] = {"sleep_enabled": False, "background_update_duration_ms": 5000}
    config = settings.synapse_dir / "port-db-updates.yaml"
    write_private(config, data, HEADER)
    base = settings.synapse_dir / BASE
    argv = [sys.executable, "-m", "synapse.app.homeserver",
            "--config-path", str(base), "--config-path", str(config)]  # fmt: skip
    log_path = settings.log_dir / "synapse-port-db.log"
    with open(log_path, "a", encoding="utf-8") as log, subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT
    ) as process:  # fmt: skip
        try:
            deadline = time.monotonic() + UPDATES_TIMEOUT_S
            while pending_background_updates(path):
                if process.poll() is not None:
                    raise PortError(
                        f"Synapse stopped (exit code {process.returncode}) before its "
                        f"background updates were done; see {log_path}"
                    )
                if time.monotonic() > deadline:
                    raise PortError(f"Synapse's background updates took an hour; see {log_path}")
                time.sleep(1)
        finally:
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
    config.unlink(missing_ok=True)
    on_line("background updates done")


def port_synapse(settings: Settings, on_line: Callable[[str], None]) -> None:
    scaled = settings.config.homeserver.scaled
    assert scaled is not None
    finish_background_updates(settings, on_line)
    base = settings.synapse_dir / BASE
    config = yaml.safe_load(base.read_text(encoding="utf-8"))
    config["database"] = synapse_database(scaled)
    target = settings.synapse_dir / "port-db.yaml"
    write_private(target, config, "# written by messenger migrate-db for synapse_port_db\n")
    tool = Path(sys.executable).parent / "synapse_port_db"
    log_path = settings.log_dir / "synapse-port-db.log"
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    with (
        open(log_path, "a", encoding="utf-8") as log,
        subprocess.Popen(
            [str(tool), "--sqlite-database", str(sqlite_file(settings)),
             "--postgres-config", str(target)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=settings.log_dir,
        ) as process,
    ):  # fmt: skip
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            on_line(line.rstrip("\n"))
        code = process.wait()
    target.unlink(missing_ok=True)
    if code != 0:
        raise PortError(f"synapse_port_db failed (exit code {code}); see {log_path}")
    changed = align_sequences(scaled.synapse_database)
    if changed:
        on_line(f"sequences set to the last id in use: {', '.join(changed)}")
    (settings.synapse_dir / MARKER).write_text(
        json.dumps({
            "moved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "to": scaled.synapse_database.rsplit("@", 1)[-1],
        }),
        encoding="utf-8",
    )  # fmt: skip


def align_sequences(url: str) -> list[str]:
    """Each stream's sequence at the stream's true position, as Synapse reads it at start.

    synapse_port_db restarts each sequence after the highest id left in its tables (RESTART
    WITH: not yet called, so `last_value` is the *next* id). A process that writes the stream
    takes `last_value` as what it has already written: with a worker as writer it then waits
    for an id that is never persisted and the first new event stays unseen. And a stream whose
    rows are deleted once delivered (to-device messages) has handed out higher ids than its
    tables show — `stream_positions` remembers them, and Synapse refuses to start ("sequence …
    inconsistent with associated stream position"). So: set each sequence to the last id in
    use, the higher of the tables' and the stream's position."""
    changed = []
    target = PostgresTarget.from_url(url)
    connection = target.connect(target.name)
    try:
        with connection, connection.cursor() as cursor:
            for stream, sequence in STREAM_SEQUENCES.items():
                cursor.execute("SELECT to_regclass(%s)", (sequence,))
                if cursor.fetchone()[0] is None:  # type: ignore[index]
                    continue
                cursor.execute(
                    "SELECT max(stream_id) FROM stream_positions WHERE stream_name = %s",
                    (stream,),
                )
                position = cursor.fetchone()[0] or 0  # type: ignore[index]
                cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
                last, called = cursor.fetchone()  # type: ignore[misc]
                in_use = last if called else last - 1
                wanted = max(in_use, position, 1)
                if not called or wanted != last:
                    cursor.execute("SELECT setval(%s, %s, true)", (sequence, wanted))
                    changed.append(f"{sequence} at {wanted}")
    finally:
        connection.close()
    return changed
