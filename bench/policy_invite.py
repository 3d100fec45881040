"""Benchmark: what the policy module adds to an invite, module on vs. off, in one run.

Starts a real Synapse + `messenger serve` twice: once as configured (policy module loaded), once
with `homeserver.extra: {modules: []}` (no module). In each, 100 listed practices (accounts of
ours, as `accounts add` makes them, with directory entries) and N/100 patients; each patient
creates 100 encrypted rooms and invites a different practice into each (so every practice gets
N/100 requests, one per patient), one invite at a time. Reported:
- invite round trip p50/p99 (POST /rooms/{id}/invite) with and without the module, and the
  difference (what a client feels);
- the module's own decision time p50/p99 (facts from its memory, kept current by the
  policy-change log, + rules), from its status resource, which is the latency the module adds
  inside Synapse, and how many decisions had to fetch facts from the appservice.

Run: .venv/bin/python -m bench.policy_invite [--invites 1000] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

from bench.record import record
from messenger.accounts.handler import AccountHandler
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.db.database import Database
from messenger.ids import Role
from messenger.policy.paths import STATUS_PATH
from tests.system import System, messenger_cli

PER_PATIENT = 100


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _practice_accounts(system: System, count: int) -> None:
    """The listed practices as accounts of ours (as `accounts add --role practice` makes them),
    eight registrations at a time."""
    settings = system.settings
    cfg = settings.config
    hs = HomeserverClient(cfg.homeserver.client_url, settings.secrets.as_token, cfg.appservice.id)
    db = Database(settings.database_url)
    handler = AccountHandler(settings, db, hs)
    gate = asyncio.Semaphore(8)

    async def one(n: int) -> None:
        async with gate:
            await handler.add(
                role=Role.PRACTICE, display_name=f"Praxis Bench {n}", username=f"bench-praxis-{n}"
            )

    try:
        await asyncio.gather(*(one(n) for n in range(count)))
    finally:
        await hs.close()
        await db.close()


async def _run(module: bool, invites: int, base: Path) -> dict[str, Any]:
    data = base / ("on" if module else "off")
    system = System(
        data,
        extra=None if module else {"modules": []},
        overrides={"chat_requests": {"max_open_per_patient": 100, "max_per_day": 1000}},
    )
    server = system.settings.config.homeserver.server_name
    practices = min(invites, PER_PATIENT)
    rows = ["id,matrix_id,name,specialty,street,postcode,city"]
    rows += [
        f"b{n},@bench-praxis-{n}:{server},Praxis Bench {n},Allgemeinmedizin,Weg {n},10115,Berlin"
        for n in range(practices)
    ]
    listing = data / "bench.csv"
    listing.write_text("\n".join(rows) + "\n")
    messenger_cli("directory", "import", str(listing), "--data-dir", str(data))
    await system.start()
    try:
        await _practice_accounts(system, practices)
        async with aiohttp.ClientSession() as session:
            tokens = []
            for k in range(-(-invites // PER_PATIENT)):  # open-request limit: 100 per patient
                patient = system.add_account("patient", f"Bench Patient {k}")
                login = await session.post(
                    system.hs_url + "/_matrix/client/v3/login",
                    json={"type": "m.login.password", "password": patient["password"],
                          "identifier": {"type": "m.id.user", "user": patient["user_id"]}},
                )  # fmt: skip
                tokens.append((await login.json())["access_token"])
            times: list[float] = []
            refused = 0
            for n in range(invites):
                headers = {"Authorization": f"Bearer {tokens[n // PER_PATIENT]}"}
                created = await session.post(
                    system.hs_url + "/_matrix/client/v3/createRoom", json={}, headers=headers
                )
                room = (await created.json())["room_id"]
                started = time.perf_counter()
                answer = await session.post(
                    system.hs_url + f"/_matrix/client/v3/rooms/{quote(room)}/invite",
                    json={"user_id": f"@bench-praxis-{n % PER_PATIENT}:{server}"},
                    headers=headers,
                )
                times.append(time.perf_counter() - started)
                if answer.status != 200:
                    refused += 1
                    if refused == 1:
                        print("refused:", answer.status, await answer.text())
            decisions: dict[str, Any] = {}
            if module:
                status = await session.get(system.hs_url + STATUS_PATH)
                body = await status.json()
                decisions = {**body["invite_decisions"], "fetches": body["facts"]["fetches"],
                             "permissions": body["permission_reads"]}  # fmt: skip
        return {
            "p50": _quantile(times, 0.5) * 1000,
            "p99": _quantile(times, 0.99) * 1000,
            "mean": statistics.mean(times) * 1000,
            "refused": refused,
            "decisions": decisions,
        }
    finally:
        await system.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invites", type=int, default=1000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-policy-"))
    try:
        off = await _run(False, args.invites, base)
        on = await _run(True, args.invites, base)
    finally:
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(base, ignore_errors=True)
    d = on["decisions"]
    perm = d.get("permissions", {})
    table = "\n".join(
        [
            f"Measured {datetime.date.today()} on {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, SQLite; {args.invites} invites each "
            "(`.venv/bin/python -m bench.policy_invite --write`).",
            "",
            "| | p50 ms | p99 ms | mean ms | refused |",
            "|---|---:|---:|---:|---:|",
            f"| invite, module off | {off['p50']:.2f} | {off['p99']:.2f} | {off['mean']:.2f} "
            f"| {off['refused']} |",
            f"| invite, module on | {on['p50']:.2f} | {on['p99']:.2f} | {on['mean']:.2f} "
            f"| {on['refused']} |",
            f"| difference (on − off) | {on['p50'] - off['p50']:.2f} | "
            f"{on['p99'] - off['p99']:.2f} | {on['mean'] - off['mean']:.2f} | |",
            f"| module decision (inside Synapse) | {d.get('p50_ms', 0):.3f} | "
            f"{d.get('p99_ms', 0):.3f} | | |",
            f"| of which: reading the invitee's permission settings from Synapse | "
            f"{perm.get('p50_ms', 0):.3f} | {perm.get('p99_ms', 0):.3f} | | "
            f"{perm.get('count', 0)} reads |",
            "",
            f"Decisions counted inside Synapse: {d.get('count', 0)} (max "
            f"{d.get('max_ms', 0):.3f} ms); facts fetched from the appservice because the "
            f"module's memory did not hold them: {d.get('fetches', 0)}.",
        ]
    )
    print(table)
    if args.write:
        record("policy", "Policy decision on invites", table)


if __name__ == "__main__":
    asyncio.run(main())
