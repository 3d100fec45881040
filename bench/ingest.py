"""Benchmark: appservice transaction ingest vs. Synapse's own event-send rate, in one run.

Starts a real Synapse and `messenger serve` (as the tests do), then
1. Synapse send rate: one user sends N encrypted-shaped events into a room through the
   client-server API (4 in flight), events/s until all are acknowledged;
2. for each backend (SQLite, and PostgreSQL when MESSENGER_TEST_POSTGRES_URL is set): replays
   T transactions of 100 synthetic events against PUT /_matrix/app/v1/transactions/{id}, one at a
   time as Synapse sends them, and reports
   - accepted/s: events durably stored and answered 200,
   - processed/s: events through the inbox worker into the room registry (until the inbox is empty).

   Then S transactions of 1 event each (what live traffic looks like), with the appservice's
   CPU time per event.

Run: .venv/bin/python -m bench.ingest [--transactions 50] [--singles 500] [--sends 500] [--write]
--write puts the table into BENCHMARKS.md between the ingest markers; BENCH_KEEP=1 keeps the
temporary data dir (logs) for a look afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

from bench.cpu import cpu_seconds
from messenger.db.database import Database
from messenger.db.stores import inbox
from tests.system import System, postgres_url

ROOT = Path(__file__).resolve().parent.parent


def _events(txn: int, size: int) -> list[dict[str, Any]]:
    events = []
    for n in range(txn * size, (txn + 1) * size):  # every tenth event a membership
        room = f"!bench{n % 20}-{txn % 5}:localhost"
        base = {
            "event_id": f"$bench-{uuid.uuid4().hex}",
            "room_id": room,
            "sender": f"@p-bench{n % 50}:localhost",
            "origin_server_ts": int(time.time() * 1000),
        }
        if n % 10 == 0:
            base |= {
                "type": "m.room.member",
                "state_key": base["sender"],
                "content": {"membership": "join"},
            }
        else:
            base |= {
                "type": "m.room.encrypted",
                "content": {
                    "algorithm": "m.megolm.v1.aes-sha2",
                    "ciphertext": "x" * 400,
                    "session_id": "s",
                },
            }
        events.append(base)
    return events


async def synapse_send_rate(system: System, sends: int) -> float:
    account = system.add_account("practice", f"Bench {uuid.uuid4().hex[:6]}")
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{system.hs_url}/_matrix/client/v3/login",
            json={
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": account["user_id"]},
                "password": account["password"],
            },
        ) as response:
            token = (await response.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        async with session.post(
            f"{system.hs_url}/_matrix/client/v3/createRoom", json={}, headers=headers
        ) as response:
            room = (await response.json())["room_id"]
        semaphore = asyncio.Semaphore(4)

        async def send(n: int) -> None:
            async with (
                semaphore,
                session.put(
                    f"{system.hs_url}/_matrix/client/v3/rooms/{room}/send/m.room.encrypted/b{n}",
                    json={
                        "algorithm": "m.megolm.v1.aes-sha2",
                        "ciphertext": "x" * 400,
                        "session_id": "s",
                        "sender_key": "k",
                        "device_id": "D",
                    },
                    headers=headers,
                ) as response,
            ):
                assert response.status == 200, await response.text()

        started = time.perf_counter()
        await asyncio.gather(*(send(n) for n in range(sends)))
        return sends / (time.perf_counter() - started)


async def ingest_rate(
    system: System, db: Database, transactions: int, size: int
) -> tuple[float, float, float]:
    """(accepted/s, processed/s, the appservice's CPU ms per event) for `transactions` of
    `size` events each, sent one after the other as Synapse sends them."""
    headers = {"Authorization": f"Bearer {system.settings.secrets.hs_token}"}
    payloads = [{"events": _events(t, size)} for t in range(transactions)]
    assert system.appservice.proc is not None
    pid = system.appservice.proc.pid
    async with aiohttp.ClientSession(headers=headers) as session:
        cpu_before = cpu_seconds(pid)
        started = time.perf_counter()
        for payload in payloads:
            async with session.put(
                f"{system.as_url}/_matrix/app/v1/transactions/bench-{uuid.uuid4().hex}",
                json=payload,
            ) as response:
                assert response.status == 200
        accepted = time.perf_counter() - started
    while True:
        async with db.transaction() as conn:
            if (await inbox.counts(conn))["pending"] == 0:
                break
        await asyncio.sleep(0.05)
    processed = time.perf_counter() - started
    events = transactions * size
    cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / events
    return events / accepted, events / processed, cpu_ms


async def _restart_on(system: System, url: str | None) -> None:
    system.appservice.stop()
    system.configure("database", "url", url)
    await system.start_appservice()


async def main(transactions: int, singles: int, sends: int, write: bool) -> None:
    rows: list[tuple[str, str]] = []
    folder = tempfile.mkdtemp(prefix="bench-ingest-")
    try:
        system = System(Path(folder))
        # back-to-back transactions, for the cost of each: no pace to space the small ones
        system.configure("appservice", "transaction_window", "0")
        await system.start()
        try:
            send_rate = await synapse_send_rate(system, sends)
            rows.append(
                (f"Synapse C-S send, {sends} events, 4 in flight", f"{send_rate:,.0f} events/s")
            )
            backends: list[tuple[str, str | None]] = [("SQLite", None)]
            pg = postgres_url()
            admin = None
            if pg:
                name = f"messenger_bench_{uuid.uuid4().hex[:8]}"
                base = make_url(pg)
                admin = await asyncpg.connect(
                    base.set(drivername="postgresql", database="postgres").render_as_string(
                        hide_password=False
                    )
                )
                await admin.execute(f'CREATE DATABASE "{name}"')
                backends.append(
                    ("PostgreSQL", base.set(database=name).render_as_string(hide_password=False))
                )
            for label, url in backends:
                if url is not None:
                    await _restart_on(system, url)
                db = Database(system.settings.database_url)
                accepted, processed, cpu_ms = await ingest_rate(system, db, transactions, 100)
                rows.append(
                    (
                        f"appservice ingest on {label}: accepted (stored + 200)",
                        f"{accepted:,.0f} events/s",
                    )
                )
                rows.append(
                    (
                        f"appservice ingest on {label}: processed into registry",
                        f"{processed:,.0f} events/s ({cpu_ms:.2f} ms CPU per event)",
                    )
                )
                # live traffic: Synapse sends an event or two per transaction
                _, processed, cpu_ms = await ingest_rate(system, db, singles, 1)
                await db.close()
                rows.append(
                    (
                        f"appservice ingest on {label}: {singles} transactions of 1 event",
                        f"{processed:,.0f} events/s ({cpu_ms:.2f} ms CPU per event)",
                    )
                )
            if admin is not None:
                await _restart_on(system, None)
                await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                await admin.close()
        finally:
            await system.stop()
    finally:
        if os.environ.get("BENCH_KEEP") is None:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept {folder}")
    table = _table(rows, transactions)
    print(table)
    if write:
        target = ROOT / "BENCHMARKS.md"
        text = target.read_text()
        text = re.sub(
            r"<!-- ingest:start -->.*<!-- ingest:end -->",
            f"<!-- ingest:start -->\n{table}\n<!-- ingest:end -->",
            text,
            flags=re.S,
        )
        target.write_text(text)


def _table(rows: list[tuple[str, str]], transactions: int) -> str:
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    lines = [
        f"Measured {datetime.date.today().isoformat()} on {platform.node() or 'this machine'}: "
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{transactions} transactions x 100 events.",
        "",
        "| what | rate |",
        "|---|---|",
        *[f"| {what} | {rate} |" for what, rate in rows],
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transactions", type=int, default=50)
    parser.add_argument("--singles", type=int, default=500)
    parser.add_argument("--sends", type=int, default=500)
    parser.add_argument("--write", action="store_true")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.transactions, arguments.singles, arguments.sends, arguments.write))
