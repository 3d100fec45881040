"""Planner statistics for the embedded Synapse's SQLite file: made by the job, on the real one."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from messenger.homeserver.sqlite_stats import analyze
from tests.system import System, messenger_cli


def test_analyze_writes_statistics_and_skips_a_missing_file(tmp_path: Path) -> None:
    assert analyze(tmp_path / "none.db") is None
    database = tmp_path / "x.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE t (a INTEGER)")
        conn.execute("CREATE INDEX t_a ON t (a)")
        conn.executemany("INSERT INTO t VALUES (?)", [(n % 7,) for n in range(100)])
    assert analyze(database) is not None
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_stat1").fetchone()[0] >= 1


async def test_the_job_refreshes_the_running_synapses_statistics(system: System) -> None:
    result = messenger_cli("retention", "run", "homeserver_analyze", "--data-dir",
                           str(system.data_dir), "--json")  # fmt: skip
    outcome = json.loads(result.stdout)
    assert outcome["ran"] and outcome["error"] is None and outcome["result"]["seconds"] >= 0
    database = system.settings.synapse_sqlite
    assert database is not None
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_stat1").fetchone()[0] > 10
