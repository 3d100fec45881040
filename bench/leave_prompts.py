"""Benchmark: the daily leave-prompt job over 100k care chats of 50k patients.

Synthetic room-registry rows (as the registry handler writes them from envelopes): each patient
has two care chats with a practice, newest message spread over the last two years; 8 % of the
patients chose 3 months, 4 % 12 months, 2 % turned prompts off. Measured on SQLite and (when
MESSENGER_TEST_POSTGRES_URL is set) PostgreSQL:
- selection: wall time and statements of `LeavePrompts.select` (the target: ≤ 2 s);
- the whole run: selection plus one transaction per prompted patient (prompts + notice).

Run: .venv/bin/python -m bench.leave_prompts [--patients 50000] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import random
import tempfile
import time
import uuid
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bench.record import record
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.db.database import Database, now_ms
from messenger.db.schema import leave_settings, room_members, rooms
from messenger.retention.leave_prompts import LeavePrompts

DAY = 86_400_000


async def _no_token() -> str:
    raise AssertionError("not needed")


async def fill(db: Database, patients: int) -> None:
    rng = random.Random(7)
    now = now_ms()
    room_rows: list[dict[str, Any]] = []
    member_rows: list[dict[str, Any]] = []
    settings: list[dict[str, Any]] = []
    for p in range(patients):
        patient = f"@p{p}:bench"
        for c in range(2):
            room = f"!r{p}x{c}:bench"
            last = now - rng.randint(0, 730) * DAY
            room_rows.append({"room_id": room, "kind": "care", "creator": patient,
                              "encrypted": True, "created_at": last - 30 * DAY,
                              "last_event_at": last, "message_count": 5})  # fmt: skip
            member_rows.append({"room_id": room, "user_id": patient, "role": "patient",
                                "membership": "join", "message_count": 3})  # fmt: skip
            practice = f"@praxis{rng.randint(0, 4999)}:bench"
            member_rows.append({"room_id": room, "user_id": practice, "role": "practice",
                                "membership": "join", "message_count": 2})  # fmt: skip
        draw = rng.random()
        if draw < 0.14:
            months = 3 if draw < 0.08 else 12 if draw < 0.12 else None
            settings.append({"user_id": patient, "months": months, "updated_at": now})
    async with db.transaction() as conn:
        for table, rows in (
            (rooms, room_rows),
            (room_members, member_rows),
            (leave_settings, settings),
        ):
            for i in range(0, len(rows), 5000):
                await conn.execute(table.insert(), rows[i : i + 5000])
    if db.dialect == "postgresql":
        async with db.transaction() as conn:
            for table in ("rooms", "room_members", "leave_settings"):
                await conn.exec_driver_sql(f"ANALYZE {table}")


async def measure(db: Database, patients: int) -> dict[str, Any]:
    await db.migrate()
    await fill(db, patients)
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    prompts = LeavePrompts(db, HomeserverClient("http://127.0.0.1:9", "x", "x"), _no_token, 6)
    times = []
    for _ in range(3):
        statements = 0
        started = time.perf_counter()
        due = await prompts.select(now_ms())
        times.append(time.perf_counter() - started)
    select_statements = statements
    statements = 0
    started = time.perf_counter()
    run = await prompts.run(now_ms())
    full = time.perf_counter() - started
    return {"select_s": min(times), "select_statements": select_statements, "due": len(due),
            "run_s": full, "run_statements": statements, "patients": run.patients}  # fmt: skip


async def _postgres(patients: int, url: str) -> dict[str, Any]:
    base = make_url(url)
    name = f"messenger_bench_{uuid.uuid4().hex[:8]}"
    admin_dsn = base.set(drivername="postgresql", database="postgres")
    admin = await asyncpg.connect(admin_dsn.render_as_string(hide_password=False))
    await admin.execute(f'CREATE DATABASE "{name}"')
    db = Database(base.set(database=name).render_as_string(hide_password=False))
    try:
        return await measure(db, patients)
    finally:
        await db.close()
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=50_000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{folder}/bench.db")
        results.append(("SQLite", await measure(db, args.patients)))
        await db.close()
    pg = os.environ.get("MESSENGER_TEST_POSTGRES_URL")
    if pg:
        results.append(("PostgreSQL", await _postgres(args.patients, pg)))
    lines = [
        f"Measured {datetime.date.today()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {args.patients} patients, {2 * args.patients} "
        "care chats (`.venv/bin/python -m bench.leave_prompts --write`, PostgreSQL with "
        "MESSENGER_TEST_POSTGRES_URL set). Target: selection ≤ 2 s.",
        "",
        "| database | selection s | statements | due chats | whole run s | statements | "
        "patients prompted |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results:
        lines.append(
            f"| {name} | {r['select_s']:.2f} | {r['select_statements']} | {r['due']} | "
            f"{r['run_s']:.1f} | {r['run_statements']} | {r['patients']} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.write:
        record("leave-prompts", "Daily leave-prompt job", table)


if __name__ == "__main__":
    asyncio.run(main())
