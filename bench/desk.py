"""Benchmark: the insurer desk with 10,000 open tickets.

Starts a real Synapse + `messenger serve` (SQLite), seeds N open tickets into our database
(spread over the last two hours, so none is due during the run), then measures with real E2E
clients:
- patient message -> queue post: a patient (topic chosen) sends the first message of a concern;
  the time until an agent's client has decrypted the new queue post, one concern at a time;
- SLA-timer accuracy: concerns on a topic with a 20 s SLA and `desk.check_every: 1s`; the time
  from each ticket's due instant to the escalation post decrypted by a supervisor's client;
- `desk stats`: the report over all tickets, in-process and as the CLI (wall clock), and the
  `desk_sla` job's scan with nothing due, on SQLite and (if MESSENGER_TEST_POSTGRES_URL is set)
  on PostgreSQL with the same rows.

Run: .venv/bin/python -m bench.desk [--tickets 10000] [--samples 40] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import random
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from bench.record import record
from messenger.db.database import Database, now_ms
from messenger.db.schema import ticket_messages, tickets
from messenger.desk.desk import build_desk
from messenger.desk.sla_watch import SlaWatch
from messenger.desk.stats import DeskStats
from messenger.secretbox import SecretBox
from tests.desk.desk_people import desk_room, next_message
from tests.e2e_client import E2EUser
from tests.system import System, messenger_cli

TOPICS = ["mitgliedschaft", "krankengeld", "leistungen", "bescheinigungen", "kontaktdaten",
          "sonstiges"]  # fmt: skip
FAST_SLA_S = 20
DESK = {"check_every": "1s", "topics": [
    {"key": "schnell", "de": "Schnell", "en": "Fast", "sla": f"{FAST_SLA_S}s"},
    {"key": "sonstiges", "de": "Sonstiges", "en": "Other"},
]}  # fmt: skip


def _q(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def seed(db: Database, count: int, box: SecretBox) -> None:
    """`count` open tickets with one sealed message each, opened in the last two hours."""
    now = now_ms()
    rows, messages = [], []
    for n in range(count):
        created = now - random.randint(60_000, 2 * 3_600_000)
        patient = f"@bench-{n}:localhost"
        rows.append({
            "patient_id": patient, "channel_room_id": f"!bench-{n}:localhost",
            "topic": random.choice(TOPICS), "status": "open", "created_at": created,
            "opened_at": created, "clock_started_at": created, "due_at": created + 86_400_000,
            "first_due_at": created + 86_400_000, "next_reminder_at": created + 64_800_000,
            "reminders_sent": 0, "last_activity_at": created, "hold": False,
        })  # fmt: skip
    sealed = box.seal('{"msgtype": "m.text", "body": "Frage zum Beitrag"}')
    async with db.transaction() as conn:
        await conn.execute(tickets.insert(), rows)
        first = int((await conn.execute(tickets.select().order_by(tickets.c.id))).first().id)  # type: ignore[union-attr]
        for n, row in enumerate(rows):
            messages.append({
                "ticket_id": first + n, "event_id": f"$bench-{uuid.uuid4().hex}",
                "origin_room_id": row["channel_room_id"], "author": row["patient_id"],
                "kind": "patient", "content": sealed, "mxc": None, "at": row["created_at"],
            })  # fmt: skip
        await conn.execute(ticket_messages.insert(), messages)


async def person(system: System, role: str, name: str, store: Path) -> E2EUser:
    account = system.add_account(role, name)
    user = E2EUser(system.hs_url, account["user_id"], account["password"], store)
    await user.login()
    user.account = account  # type: ignore[attr-defined]
    return user


async def live(system: System, samples: int, escalations: int, base: Path) -> dict[str, Any]:
    agent = await person(system, "supervisor", "Bench Agentin", base / "agent")
    queue = await desk_room(system, "queue")
    supervisors = await desk_room(system, "supervisors")
    for room in (queue, supervisors):
        await agent.wait_for(lambda r=room: r in agent.invites)  # type: ignore[misc]
        await agent.join(room)
    latencies: list[float] = []
    lateness: list[float] = []
    users: list[E2EUser] = [agent]
    try:
        for n in range(samples + escalations):
            fast = n >= samples
            patient = await person(system, "patient", f"Bench Patient {n}", base / f"p{n}")
            users.append(patient)
            channel = patient.account["insurer_room_id"]  # type: ignore[attr-defined]
            await patient.wait_for(lambda c=channel, p=patient: c in p.invites)  # type: ignore[misc]
            await patient.join(channel)
            await patient.wait_for_message(channel, "Willkommen beim Kundenservice")
            chosen = asyncio.ensure_future(next_message(patient, channel, "Schreiben Sie jetzt"))
            await patient.send_text(channel, "Schnell" if fast else "Sonstiges")
            await chosen
            marker = f"Bench-Anliegen {n} {uuid.uuid4().hex[:6]}"
            posted = asyncio.ensure_future(next_message(agent, queue, marker, timeout=120))
            started = time.perf_counter()
            await patient.send_text(channel, marker)
            post = await posted
            latencies.append((time.perf_counter() - started) * 1000)
            if fast:
                number = re.search(r"#(\d+)", post.body).group(1)  # type: ignore[union-attr]
                async with system.db.reading() as conn:
                    row = (await conn.execute(
                        tickets.select().where(tickets.c.id == int(number)))).first()  # fmt: skip
                assert row is not None
                escalated = await next_message(agent, supervisors, f"SLA verletzt: #{number}",
                                               timeout=FAST_SLA_S + 60)  # fmt: skip
                del escalated
                lateness.append(now_ms() - int(row.due_at))
            await patient.close()
            users.remove(patient)
    finally:
        for user in users:
            await user.close()
    return {"latency": latencies, "lateness": lateness}


async def offline(url: str, count: int, settings: Any) -> dict[str, float]:
    """Report and job scan on one database holding `count` open tickets."""
    db = Database(url)
    try:
        await db.migrate()
        async with db.reading() as conn:
            present = (await conn.execute(tickets.select().limit(1))).first() is not None
        if not present:
            await seed(db, count, SecretBox(settings.secrets.pickle_key))
        stats = DeskStats(db)
        times = []
        for _ in range(5):
            started = time.perf_counter()
            report = await stats.report(now_ms(), now_ms() - 30 * 86_400_000)
            times.append(time.perf_counter() - started)
        assert report.open_total >= count
        desk = build_desk(settings, db, None, None)  # type: ignore[arg-type]
        scans = []
        for _ in range(5):
            started = time.perf_counter()
            await SlaWatch(desk).run(now_ms())
            scans.append(time.perf_counter() - started)
        return {"stats_ms": min(times) * 1000, "scan_ms": min(scans) * 1000}
    finally:
        await db.close()


async def postgres_copy(count: int, settings: Any) -> dict[str, float] | None:
    pg = os.environ.get("MESSENGER_TEST_POSTGRES_URL")
    if not pg:
        return None
    base = make_url(pg)
    name = f"bench_desk_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(base.set(drivername="postgresql").render_as_string(False))
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        return await offline(base.set(database=name).render_as_string(False), count, settings)
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--escalations", type=int, default=10)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-desk-"))
    system = System(base / "data", overrides={"desk": DESK})
    try:
        await system.start()
        box = SecretBox(system.settings.secrets.pickle_key)
        await seed(system.db, args.tickets, box)
        measured = await live(system, args.samples, args.escalations, base)
        sqlite = await offline(system.settings.database_url, args.tickets, system.settings)
        started = time.perf_counter()
        messenger_cli("desk", "stats", "--json", "--data-dir", str(system.data_dir))
        cli_ms = (time.perf_counter() - started) * 1000
    finally:
        await system.stop()
    pg = await postgres_copy(args.tickets, system.settings)
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(base, ignore_errors=True)
    lat, late = measured["latency"], measured["lateness"]
    lines = [
        f"Measured {datetime.date.today()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {args.tickets} open tickets seeded "
        f"(`.venv/bin/python -m bench.desk --write`"
        f"{', PostgreSQL with MESSENGER_TEST_POSTGRES_URL set' if pg else ''}).",
        "",
        "| what | n | p50 | p99 | max |",
        "|---|---:|---:|---:|---:|",
        f"| patient message → queue post decrypted by an agent (ms) | {len(lat)} | "
        f"{_q(lat, 0.5):.0f} | {_q(lat, 0.99):.0f} | {max(lat):.0f} |",
        f"| SLA due → escalation decrypted by a supervisor (ms late; check every 1 s) | "
        f"{len(late)} | {_q(late, 0.5):.0f} | {_q(late, 0.99):.0f} | {max(late):.0f} |",
        "",
        "| database | `desk stats` report ms | `desk_sla` scan, nothing due, ms |",
        "|---|---:|---:|",
        f"| SQLite | {sqlite['stats_ms']:.0f} | {sqlite['scan_ms']:.1f} |",
    ]
    if pg:
        lines.append(f"| PostgreSQL | {pg['stats_ms']:.0f} | {pg['scan_ms']:.1f} |")
    lines += ["", f"`messenger desk stats --json` as a command (SQLite, process start included): "
              f"{cli_ms:.0f} ms."]  # fmt: skip
    table = "\n".join(lines)
    print(table)
    if args.write:
        record("desk", "Insurer desk with 10,000 open tickets", table)


if __name__ == "__main__":
    asyncio.run(main())
