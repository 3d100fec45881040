"""Benchmark: exporting a 100,000-message chat, next to raw paging of the same history.

Starts a real Synapse + `messenger serve` (SQLite), makes a care chat between a patient and a
practice and fills it with N end-to-end encrypted messages (Megolm sessions from vodozemac, the
ciphertext built here, sent through the client-server API like any client's, both senders
taking turns, each reading the other's messages — a read receipt every 50 messages; without
receipts Synapse's unread counts make every send slower than the last). Then, in the same run
and alternating:
- raw paging: /messages backwards, 1,000 events a page, JSON decoded, nothing else;
- `messenger export` (the CLI, its own process): HTML by default and all three formats, keys
  from a key-export file; wall time (process start and login included, and with that fixed
  part — an export of an empty period — taken off) and the process's peak RSS (wait4);
- the same export over the newest 10 % and 50 % of the chat (`--since`), to show that memory
  does not grow with the number of messages, and over the oldest half (`--until`, which starts
  paging at that instant through /timestamp_to_event).

Run: .venv/bin/python -m bench.export [--messages 100000] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import vodozemac
from nio.crypto.key_export import encrypt_and_save

from bench.record import record
from messenger.homeserver.sqlite_stats import analyze
from tests.system import System

V3 = "/_matrix/client/v3"
PASSPHRASE = "bench"
# messages in flight at once: below Synapse's 10 prev_events per event, so the room's forward
# extremities stay few (16 at once made them pile up by thousands and every send slower)
IN_FLIGHT = 8
RECEIPT_EVERY = 50


class Sender:
    def __init__(self, account: dict[str, Any], device: str) -> None:
        self.account = account
        self.session = vodozemac.GroupSession()
        self.initial = vodozemac.InboundGroupSession(self.session.session_key)  # index 0
        self.sender_key = vodozemac.Curve25519SecretKey().public_key().to_base64()
        self.device = device

    def encrypted(self, room: str, body: str) -> dict[str, Any]:
        clear = {"type": "m.room.message", "room_id": room,
                 "content": {"msgtype": "m.text", "body": body}}  # fmt: skip
        ciphertext = self.session.encrypt(json.dumps(clear).encode()).to_base64()
        return {"algorithm": "m.megolm.v1.aes-sha2", "sender_key": self.sender_key,
                "session_id": self.session.session_id, "ciphertext": ciphertext,
                "device_id": self.device}  # fmt: skip

    def exported(self, room: str) -> dict[str, Any]:
        inbound = self.initial
        return {"algorithm": "m.megolm.v1.aes-sha2", "room_id": room,
                "sender_key": self.sender_key, "session_id": self.session.session_id,
                "session_key": inbound.export_at(0).to_base64(),
                "sender_claimed_keys": {"ed25519": "bench"},
                "forwarding_curve25519_key_chain": []}  # fmt: skip


async def call(http: aiohttp.ClientSession, method: str, url: str, token: str,
               body: dict[str, Any] | None = None) -> Any:  # fmt: skip
    for _ in range(20):
        async with http.request(method, url, json=body,
                                headers={"Authorization": f"Bearer {token}"}) as r:  # fmt: skip
            data = await r.json(content_type=None)
            if r.status == 429:
                await asyncio.sleep(0.2)
                continue
            assert r.status == 200, (r.status, data)
            return data
    raise RuntimeError("rate limited")


async def fill(system: System, count: int) -> tuple[str, dict[str, Any], list[Sender], list[int]]:
    """The chat; its patient; both senders; the timestamps of every 10,000th message."""
    patient = system.add_account("patient", "Erika Bench")
    practice = system.add_listed_practice("Praxis Bench")
    hs = system.hs_url
    async with aiohttp.ClientSession() as http:
        tokens = []
        for account in (patient, practice):
            login = await call(http, "POST", f"{hs}{V3}/login", "", {
                "type": "m.login.password", "password": account["password"],
                "identifier": {"type": "m.id.user", "user": account["user_id"]}})  # fmt: skip
            tokens.append(login["access_token"])
        room = (await call(http, "POST", f"{hs}{V3}/createRoom", tokens[0], {
            "invite": [practice["user_id"]], "is_direct": True, "initial_state": [
                {"type": "m.room.encryption", "state_key": "",
                 "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]}))["room_id"]  # fmt: skip
        await call(http, "POST", f"{hs}{V3}/rooms/{quote(room)}/join", tokens[1], {})
        senders = [Sender(patient, "BENCHP"), Sender(practice, "BENCHD")]
        marks: list[int] = []
        started = time.perf_counter()

        async def worker(first: int) -> None:
            for number in range(first, count, IN_FLIGHT):
                which = number % 2  # both sides take turns
                content = senders[which].encrypted(room, f"Nachricht {number}: " + "Befund " * 8)
                url = f"{hs}{V3}/rooms/{quote(room)}/send/m.room.encrypted/{uuid.uuid4().hex}"
                sent = await call(http, "PUT", url, tokens[which], content)
                if number % RECEIPT_EVERY == 0:  # the other side reads, as people do; unread
                    # push actions would otherwise pile up and slow every send (Synapse)
                    receipt = (
                        f"{hs}{V3}/rooms/{quote(room)}/receipt/m.read/{quote(sent['event_id'])}"
                    )
                    await call(http, "POST", receipt, tokens[1 - which], {})
                if number % 10_000 == 0:
                    marks.append(int(time.time() * 1000))
                    rate = (number + 1) / (time.perf_counter() - started)
                    print(f"  {number:,} sent, {rate:.0f}/s", flush=True)

        await asyncio.gather(*(worker(first) for first in range(IN_FLIGHT)))
    return room, patient, senders, sorted(marks)


async def raw_paging(system: System, account: dict[str, Any], room: str) -> tuple[float, int]:
    hs = system.hs_url
    async with aiohttp.ClientSession() as http:
        login = await call(http, "POST", f"{hs}{V3}/login", "", {
            "type": "m.login.password", "password": account["password"],
            "identifier": {"type": "m.id.user", "user": account["user_id"]}})  # fmt: skip
        token, events, since = login["access_token"], 0, None
        started = time.perf_counter()
        while True:
            url = f"{hs}{V3}/rooms/{quote(room)}/messages?dir=b&limit=1000"
            page = await call(http, "GET", url + (f"&from={since}" if since else ""), token)
            events += len(page.get("chunk", []))
            if not page.get("chunk") or not page.get("end"):
                break
            since = page["end"]
        elapsed = time.perf_counter() - started
        await call(http, "POST", f"{hs}{V3}/logout", token, {})
    return elapsed, events


def export_measured(system: System, account: dict[str, Any], room: str, keys: Path,
                    out: Path, *extra: str) -> tuple[float, int, dict[str, Any]]:  # fmt: skip
    """As `export`, with the peak RSS read by wait4 on the child itself."""
    env = {**os.environ, "MESSENGER_PASSWORD": account["password"],
           "MESSENGER_EXPORT_PASSPHRASE": PASSPHRASE}  # fmt: skip
    argv = [sys.executable, "-m", "messenger", "export", "--user", account["user_id"],
            "--homeserver", system.hs_url, "--room", room, "--keys", str(keys), "--out",
            str(out), "--json", *extra]  # fmt: skip
    read, write = os.pipe()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: stdout into the pipe, then the CLI
        os.close(read)
        os.dup2(write, 1)
        os.execve(argv[0], argv, env)
    os.close(write)
    with os.fdopen(read) as pipe:
        output = pipe.read()
    _pid, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - started
    assert os.waitstatus_to_exitcode(status) == 0, output
    shutil.rmtree(out, ignore_errors=True)
    return elapsed, usage.ru_maxrss // 1024, json.loads(output)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-export-"))
    system = System(base / "data")
    rows: list[str] = []
    try:
        await system.start()
        started = time.perf_counter()
        room, patient, senders, marks = await fill(system, args.messages)
        fill_s = time.perf_counter() - started
        # the planner statistics the daily job `homeserver_analyze` keeps (without them one
        # page of /messages took 22 s at 100,000 messages instead of 0.17 s)
        assert system.settings.synapse_sqlite is not None
        analyze(system.settings.synapse_sqlite)
        keys = base / "keys.txt"
        encrypt_and_save(json.dumps([s.exported(room) for s in senders]).encode(), str(keys),
                         PASSPHRASE, count=10_000)  # fmt: skip
        out = base / "out"
        iso = lambda ms: datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).isoformat()  # noqa: E731
        empty = min(  # best of 3: one run's start-up varies by a second
            export_measured(system, patient, room, keys, out, "--since", "2100-01-01")[0]
            for _ in range(3)
        )
        runs: dict[str, list[tuple[float, int, dict[str, Any]]]] = {}
        raw: list[tuple[float, int]] = []
        windows = {"newest 10 %": ["--since", iso(marks[-1])],
                   "newest 50 %": ["--since", iso(marks[len(marks) // 2])],
                   "oldest 50 % (--until)": ["--until", iso(marks[len(marks) // 2])]}  # fmt: skip
        for _round in range(2):
            raw.append(await raw_paging(system, patient, room))
            runs.setdefault("html", []).append(export_measured(system, patient, room, keys, out))
            runs.setdefault("html+txt+json", []).append(export_measured(
                system, patient, room, keys, out, "--format", "html,txt,json"))  # fmt: skip
        for name, extra in windows.items():
            runs[name] = [export_measured(system, patient, room, keys, out, *extra)]
    finally:
        await system.stop()
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(base, ignore_errors=True)
    raw_s, events = min(raw)
    raw_rate = events / raw_s
    rows = [
        f"Measured {datetime.date.today()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; one care chat of {args.messages:,} encrypted "
        f"messages ({events:,} events with the room's state), Synapse on SQLite, loopback "
        f"(`.venv/bin/python -m bench.export --write`). Filling the chat took {fill_s:.0f} s "
        f"({args.messages / fill_s:.0f} messages/s through the client-server API).",
        "",
        f"Raw paging of the same history (/messages, 1,000 a page, JSON decoded): "
        f"{raw_s:.1f} s, **{raw_rate:,.0f} events/s** (best of {len(raw)}).",
        f"Fixed cost of one `messenger export` run (process start, login, keys, logout; an "
        f"empty period, best of 3): {empty:.1f} s.",
        "",
        "| export | messages | wall s | messages/s | without fixed cost | vs raw paging "
        "| peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, measured in runs.items():
        wall, rss, summary = min(measured, key=lambda m: m[0])
        count = summary["messages"]
        net = max(wall - empty, 1e-6)
        rows.append(f"| {name} | {count:,} | {wall:.1f} | {count / wall:,.0f} | "
                    f"{count / net:,.0f}/s | {count / net / raw_rate:.0%} | {rss} |")  # fmt: skip
    table = "\n".join(rows)
    print(table)
    if args.write:
        record("export", "Chat export of a 100,000-message chat", table)


if __name__ == "__main__":
    asyncio.run(main())
