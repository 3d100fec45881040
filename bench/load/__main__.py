"""Load test: N patient–practice pairs chatting end-to-end encrypted for a fixed time, on each
deployment in the same run, on this machine (loopback).

Deployments:
- plain: Synapse alone, as the embedded one runs it but without our module and appservice
  (accounts registered with Synapse's shared secret) — the reference for our overhead;
- embedded: the default (Synapse + our module + appservice and bots, SQLite);
- scaled: Synapse workers on PostgreSQL with Redis behind nginx, our appservice on PostgreSQL.

Per deployment: messages/s sustained, send->decrypt latency p50/p99, the appservice's lag
(an event's origin_server_ts -> processed by our inbox), CPU seconds of each server process
over the load window, errors (must be 0).

Run: .venv/bin/python -m bench.load [--pairs 20] [--duration 60] [--interval 1.0]
     [--client-processes 2] [--deployments plain,embedded,scaled] [--no-tickets] [--rounds 1]
     [--side-by-side] [--write]
--no-tickets: the same client load on every deployment (no insurer-channel tickets, which plain
Synapse cannot serve) — the run for the overhead of our module + appservice.
--side-by-side: a round's deployments run at the same time, each with its own clients, their
load windows on the same seconds — the machine's speed drifts by more than the overhead sought
between runs one after the other, and side by side it falls on both alike.
BENCH_PROFILE=DIR also samples every server process with py-spy over the window
(BENCH_PROFILE_RATE samples per second, default 100).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.cpu import cpu_seconds
from bench.plain_synapse import as_deployed, plain_system, register_plain, start_plain
from bench.record import record
from messenger.config import AppserviceSection
from messenger.db.schema import inbox_events
from tests.scaled_system import ScaledSystem, missing
from tests.system import System, messenger_cli

IDLE_SETTLE_S = 10.0  # after the accounts are made: their service rooms and welcomes settle


async def _profile(
    kind: str, servers: dict[str, int], seconds: float
) -> list[asyncio.subprocess.Process]:
    """With BENCH_PROFILE=DIR: py-spy samples (only the thread holding the GIL, i.e. Python's
    own CPU time) of every server process over the window, as raw stacks in DIR. py-spy is a
    tool, not a dependency: `.venv/bin/pip install py-spy`."""
    folder = os.environ.get("BENCH_PROFILE")
    if not folder:
        return []
    os.makedirs(folder, exist_ok=True)
    spy = str(Path(sys.executable).parent / "py-spy")
    return [
        await asyncio.create_subprocess_exec(
            *(spy, "record", "--gil", "--nonblocking", "--format", "raw"),
            *("--rate", os.environ.get("BENCH_PROFILE_RATE", "100")),
            *("--duration", str(max(1, int(seconds))), "--pid", str(pid)),
            *("--output", os.path.join(folder, f"{kind}-{name}.txt")),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for name, pid in servers.items()
        if name != "nginx"
    ]


def _processes(system: System) -> dict[str, int]:
    """The server processes of a deployment: name -> pid."""
    state = system.data_dir / "run" / "up.json"
    if isinstance(system, ScaledSystem) and state.exists():
        return {k: int(v) for k, v in json.loads(state.read_text())["children"].items() if v}
    found = {"synapse": system.synapse.proc.pid if system.synapse.proc else 0}
    if system.appservice.proc is not None:
        found["appservice"] = system.appservice.proc.pid
    return found


def _idle_span(args: argparse.Namespace) -> float:
    """Seconds the idle measurement takes (its settling included)."""
    return IDLE_SETTLE_S + args.idle if args.idle > 0 else 0.0


async def _idle_cpu(system: System, seconds: float) -> dict[str, float]:
    """Each server process's CPU seconds per second with no client connected (accounts made,
    their welcome work settled): the base cost paid whatever the traffic."""
    if seconds <= 0:
        return {}
    await asyncio.sleep(IDLE_SETTLE_S)
    servers = _processes(system)
    before = {name: cpu_seconds(pid) for name, pid in servers.items()}
    await asyncio.sleep(seconds)
    return {name: (cpu_seconds(pid) - before[name]) / seconds for name, pid in servers.items()}


async def _accounts(system: System, pairs: int, plain: bool) -> list[dict[str, Any]]:
    if plain:
        made = []
        for n in range(pairs):
            made.append({"patient": await register_plain(system, f"lp{n}"),
                         "practice": await register_plain(system, f"ld{n}")})  # fmt: skip
        return made
    limit = asyncio.Semaphore(4)

    async def account(role: str, name: str) -> dict[str, str]:
        async with limit:
            result = await asyncio.to_thread(
                messenger_cli, "accounts", "add", "--data-dir", str(system.data_dir),
                "--role", role, "--display-name", name, "--json",
            )  # fmt: skip
            data = json.loads(result.stdout)
            made = {"user_id": data["user_id"], "password": data["password"]}
            if data.get("insurer_room_id"):
                made["channel"] = data["insurer_room_id"]
            return made

    patients = await asyncio.gather(
        *(account("patient", f"Last Patient {n}") for n in range(pairs))
    )
    practices = await asyncio.gather(
        *(account("practice", f"Praxis Last {n}") for n in range(pairs))
    )
    rows = ["id,matrix_id,name,specialty,street,postcode,city,visible,active"] + [
        f"load-{n},{p['user_id']},Praxis Last {n},Allgemeinmedizin,Hauptstr. 1,10115,Berlin,"
        "true,true"
        for n, p in enumerate(practices)
    ]
    csv = system.data_dir / "load-practices.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    await asyncio.to_thread(
        messenger_cli, "directory", "import", str(csv), "--source", "load",
        "--data-dir", str(system.data_dir), "--json",
    )  # fmt: skip
    return [{"patient": a, "practice": b} for a, b in zip(patients, practices, strict=True)]


async def _lag(system: System, since_ms: int, until_ms: int) -> list[float]:
    """Seconds from each event's origin_server_ts to its processing by our inbox."""
    lags = []
    async with system.db.reading() as conn:
        rows = await conn.execute(
            sa.select(inbox_events.c.envelope, inbox_events.c.processed_at).where(
                inbox_events.c.processed_at.is_not(None),
                inbox_events.c.received_at.between(since_ms, until_ms),
            )
        )
        for envelope, processed in rows:
            ts = json.loads(envelope).get("origin_server_ts")
            if isinstance(ts, int):
                lags.append((int(processed) - ts) / 1000)
    return lags


def _database_bytes(system: System) -> int | None:
    """Size of the scaled deployment's Synapse database (None elsewhere)."""
    if not isinstance(system, ScaledSystem):
        return None
    from messenger.homeserver.postgres import PostgresTarget

    target = PostgresTarget.from_url(system.synapse_url)
    connection = target.connect(target.name)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])  # type: ignore[index]
    finally:
        connection.close()


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Together:
    """Deployments run side by side: each waits here once its accounts are made, and all take
    the same instant as the start of their idle measurement and load window. If one fails,
    the others stop waiting (BrokenBarrierError)."""

    def __init__(self, parties: int) -> None:
        self._barrier = asyncio.Barrier(parties)
        self._at: float | None = None

    async def __call__(self) -> float:
        await self._barrier.wait()
        if self._at is None:
            self._at = time.time()
        return self._at

    async def abort(self) -> None:
        await self._barrier.abort()


async def _now() -> float:
    return time.time()


async def run_one(
    kind: str,
    base: Path,
    args: argparse.Namespace,
    ready: Callable[[], Awaitable[float]] = _now,
) -> dict[str, Any]:
    """One deployment under the load; `ready` gives the instant the idle measurement starts
    (deployments side by side share it, so their windows coincide)."""
    folder = base / kind
    if kind == "scaled":
        system: System = ScaledSystem(folder, extra=as_deployed(folder))
    elif kind == "plain":
        system = plain_system(folder)
    else:
        system = System(folder, extra=as_deployed(folder))
    if kind != "plain":  # the tests' system runs a shorter window than deployments
        window = args.window or AppserviceSection.model_fields["transaction_window"].default
        system.configure("appservice", "transaction_window", window)
    if kind == "plain":
        await start_plain(system)
    else:
        await system.start()
    try:
        accounts = await _accounts(system, args.pairs, kind == "plain")
        began = await ready()
        idle = await _idle_cpu(system, args.idle)
        # every pair's chat is open by then
        start_at = began + _idle_span(args) + 20 + args.pairs * 0.5
        end_at = start_at + args.duration
        n = len(accounts)
        specs = [{**pair, "hs_url": system.hs_url, "start_at": start_at, "end_at": end_at,
                  "interval_s": args.interval, "tickets": not args.no_tickets,
                  "requests": not args.no_requests,
                  # spread over the window: one chat request and one ticket per patient
                  "other_practice": accounts[(i + 1) % n]["practice"]["user_id"],
                  "request_at": start_at + args.duration * (i + 0.25) / n,
                  "ticket_at": start_at + args.duration * (i + 0.75) / n}
                 for i, pair in enumerate(accounts)]  # fmt: skip
        shares = [specs[n :: args.client_processes] for n in range(args.client_processes)]
        clients = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.load.clients",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            for _share in shares
        ]
        communicating = [
            asyncio.ensure_future(client.communicate(json.dumps(share).encode()))
            for client, share in zip(clients, shares, strict=True)
        ]
        await asyncio.sleep(max(0.0, start_at - time.time()))
        servers = _processes(system)
        size_before = _database_bytes(system)
        cpu_before = {name: cpu_seconds(pid) for name, pid in servers.items()}
        client_before = sum(cpu_seconds(c.pid) for c in clients)
        profiles = await _profile(f"{folder.parent.name}-{kind}", servers, end_at - time.time())
        await asyncio.sleep(max(0.0, end_at - time.time()))
        for profile in profiles:
            await profile.wait()
        cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in servers.items()}
        client_cpu = sum(cpu_seconds(c.pid) for c in clients) - client_before
        outputs = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in
                   await asyncio.gather(*communicating)]  # fmt: skip
        lags = (
            [] if kind == "plain" else await _lag(system, int(start_at * 1000), int(end_at * 1000))
        )
        size_after = _database_bytes(system)
    finally:
        if kind == "plain":
            system.synapse.stop()
            await system.db.close()
        else:
            await system.stop()
    latencies = [x for o in outputs for x in o["latencies"]]
    requests = [x for o in outputs for x in o["request_latencies"]]
    tickets = [x for o in outputs for x in o["ticket_latencies"]]
    return {
        "requests": len(requests),
        "request_p50": _quantile(requests, 0.5),
        "request_max": max(requests, default=float("nan")),
        "tickets": len(tickets),
        "ticket_p50": _quantile(tickets, 0.5),
        "ticket_max": max(tickets, default=float("nan")),
        "deployment": kind,
        "pairs": sum(o["ready"] for o in outputs),
        "sent": sum(o["sent"] for o in outputs),
        # decrypted, or arrived already deleted by the sender (no content to decrypt)
        "received": len(latencies) + sum(o["deleted_unseen"] for o in outputs),
        "deleted_unseen": sum(o["deleted_unseen"] for o in outputs),
        "deleted": sum(o["deleted"] for o in outputs),
        "rate": len(latencies) / args.duration,
        "p50": _quantile(latencies, 0.5),
        "p99": _quantile(latencies, 0.99),
        "lag_p50": _quantile(lags, 0.5),
        "lag_p99": _quantile(lags, 0.99),
        "errors": [e for o in outputs for e in o["errors"]],
        "missing": [m for o in outputs for m in o["missing"]],  # sent, never received
        "undecryptable": sum(o["undecryptable"] for o in outputs),
        "cpu": cpu,
        "idle_cpu_per_s": idle,
        "client_cpu": client_cpu,
        "mean_latency": statistics.fmean(latencies) if latencies else float("nan"),
        "db_bytes_per_message": (
            (size_after - size_before) / max(1, sum(o["sent"] for o in outputs))
            if size_before is not None and size_after is not None
            else None
        ),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds between a pair's sends"
    )
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--deployments", default="plain,embedded,scaled")
    parser.add_argument("--no-tickets", action="store_true")
    parser.add_argument(
        "--no-requests", action="store_true", help="messages only (to tell costs apart)"
    )
    parser.add_argument(
        "--window", help="the appservice's transaction_window (default: the deployed default)"
    )
    parser.add_argument(
        "--idle", type=float, default=30.0,
        help="seconds of server CPU measured with no client before the window (0: none)",
    )  # fmt: skip
    parser.add_argument(
        "--rounds", type=int, default=1,
        help="run the deployments this many times, interleaved (plain, embedded, embedded, "
        "plain, ...): "
        "the overhead from all rounds together, and each round's, tells an effect from noise",
    )  # fmt: skip
    parser.add_argument(
        "--side-by-side", action="store_true",
        help="run the deployments of a round at the same time, with one load window (each "
        "with its own clients): the machine's drift falls on all alike",
    )  # fmt: skip
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be 1 or more, not {args.rounds}")
    kinds = args.deployments.split(",")
    if "scaled" in kinds and missing() is not None:
        raise SystemExit(f"scaled deployment not possible here: {missing()}")
    base = Path(tempfile.mkdtemp(prefix="bench-load-"))
    results = []
    try:
        for round_ in _rounds(args):
            folder = base / f"round-{round_}"
            if args.side_by_side:
                print(f"{', '.join(kinds)} side by side (round {round_} of {args.rounds}) ...",
                      flush=True)  # fmt: skip
                done = await _side_by_side(kinds, folder, args)
            else:
                # every other round in reverse (plain, embedded, embedded, plain, ...): a
                # drift of the machine over the run falls on both sides alike
                done = []
                for kind in kinds if round_ % 2 else kinds[::-1]:
                    print(f"{kind} (round {round_} of {args.rounds}) ...", flush=True)
                    done.append(await run_one(kind, folder, args))
            for result in done:
                results.append({**result, "round": round_})
                print(json.dumps({k: v for k, v in result.items() if k != "errors"}), flush=True)
    finally:
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(base, ignore_errors=True)
    print(report(results, args))
    if args.write:
        if args.no_tickets:
            record("load-overhead", "Overhead: the same load on plain Synapse and embedded",
                   report(results, args))  # fmt: skip
        else:
            record("load", "Load test: plain Synapse, embedded and scaled deployments",
                   report(results, args))  # fmt: skip


async def _side_by_side(
    kinds: list[str], folder: Path, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """The deployments at the same time, their load windows on the same seconds: whatever the
    machine does in those seconds (another tenant, its clock speed) falls on all of them."""
    together = Together(len(kinds))

    async def one(kind: str) -> dict[str, Any]:
        try:
            return await run_one(kind, folder, args, together)
        except BaseException:
            await together.abort()
            raise

    async with asyncio.TaskGroup() as group:  # one failing cancels the others (they clean up)
        tasks = [group.create_task(one(kind)) for kind in kinds]
    return [task.result() for task in tasks]


def _rounds(args: argparse.Namespace) -> range:
    return range(1, args.rounds + 1)


def _label(result: dict[str, Any], args: argparse.Namespace) -> str:
    kind = str(result["deployment"])
    return f"{kind} (round {result['round']})" if args.rounds > 1 else kind


def _per_message(results: list[dict[str, Any]]) -> dict[str, float]:
    """Server CPU seconds per message delivered, per deployment, over the runs given."""
    cpu: dict[str, float] = {}
    received: dict[str, int] = {}
    for r in results:
        cpu[r["deployment"]] = cpu.get(r["deployment"], 0.0) + sum(r["cpu"].values())
        received[r["deployment"]] = received.get(r["deployment"], 0) + r["received"]
    return {kind: cpu[kind] / max(1, received[kind]) for kind in cpu}


def _idle_per_s(results: list[dict[str, Any]]) -> dict[str, float]:
    """Idle server CPU seconds per second, per deployment (mean over its runs)."""
    found: dict[str, list[float]] = {}
    for r in results:
        if r["idle_cpu_per_s"]:
            found.setdefault(r["deployment"], []).append(sum(r["idle_cpu_per_s"].values()))
    return {kind: statistics.mean(values) for kind, values in found.items()}


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"Measured {datetime.date.today()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, everything on this one machine (loopback): "
        f"{args.pairs} patient–practice pairs as E2E clients (matrix-nio + vodozemac) in "
        f"{args.client_processes} processes, each side sending every {2 * args.interval:g} s "
        f"(turns), every tenth message deleted again, for {args.duration:g} s "
        f"(`.venv/bin/python -m bench.load --pairs {args.pairs} --duration {args.duration:g} "
        f"--deployments {','.join(dict.fromkeys(r['deployment'] for r in results))}"
        f"{f' --rounds {args.rounds}' if args.rounds > 1 else ''}"
        f"{' --side-by-side' if args.side_by_side else ''}"
        f"{' --no-tickets' if args.no_tickets else ''}"
        f"{f' --window {args.window}' if args.window is not None else ''} --write`); "
        f"appservice transaction window "
        f"{args.window or AppserviceSection.model_fields['transaction_window'].default}."
        + (
            " The deployments of a round ran side by side (`--side-by-side`): their load "
            "windows on the same seconds, each with its own clients."
            if args.side_by_side
            else ""
        ),
        "",
        "| deployment | messages/s | send→decrypt p50 | p99 | appservice lag p50 | p99 | errors "
        "| server CPU s (of the window) | clients' CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in results:
        label = _label(r, args)
        cpu = ", ".join(f"{name} {seconds:.1f}" for name, seconds in sorted(r["cpu"].items()))
        lag = (
            ("–", "–")
            if r["deployment"] == "plain"
            else (f"{r['lag_p50'] * 1000:.0f} ms", f"{r['lag_p99'] * 1000:.0f} ms")
        )
        lines.append(
            f"| {label} | {r['rate']:.1f} | {r['p50'] * 1000:.0f} ms | "
            f"{r['p99'] * 1000:.0f} ms | {lag[0]} | {lag[1]} | "
            f"{len(r['errors']) + r['undecryptable'] + (r['sent'] - r['received'])} | {cpu} | "
            f"{r['client_cpu']:.1f} |"
        )
    lines += [
        "",
        "In the same window each patient also sent one chat request to another pair's practice "
        "(accepted at once; timed: invite → both joined)"
        + (
            "; no tickets (`--no-tickets`): plain Synapse has no insurer channel, so this run "
            "compares only the load both can serve."
            if args.no_tickets
            else " and, where there is an insurer channel (not on plain Synapse), opened one "
            "ticket (timed: concern sent → the desk bot's confirmation decrypted)."
        ),
        "",
        "| deployment | chat requests accepted | p50 | max | tickets confirmed | p50 | max |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        tickets = (
            ("–", "–", "–")
            if r["deployment"] == "plain" or args.no_tickets
            else (str(r["tickets"]), f"{r['ticket_p50']:.2f} s", f"{r['ticket_max']:.2f} s")
        )
        lines.append(
            f"| {_label(r, args)} | {r['requests']} of {r['pairs']} | {r['request_p50']:.2f} s | "
            f"{r['request_max']:.2f} s | {tickets[0]} | {tickets[1]} | {tickets[2]} |"
        )
    unseen = [f"{_label(r, args)} {r['deleted_unseen']}" for r in results if r["deleted_unseen"]]
    if unseen:
        lines.append(
            "\nMessages deleted by their sender before the other side's sync fetched them "
            "(that side got them as deleted, as it should; counted as delivered): "
            + ", ".join(unseen)
            + "."
        )
    per_message = _per_message(results)
    if "plain" in per_message and "embedded" in per_message:
        lines.append(
            "\nServer CPU per message delivered"
            + (f" (all {args.rounds} rounds together)" if args.rounds > 1 else "")
            + ": "
            + ", ".join(f"{kind} {ms * 1000:.1f} ms" for kind, ms in per_message.items())
            + f"; overhead of our module + appservice (embedded vs plain): "
            f"{(per_message['embedded'] / per_message['plain'] - 1) * 100:+.0f} %"
            + (" (the embedded side also served the tickets)" if not args.no_tickets else "")
            + "."
        )
        if args.rounds > 1:
            each = [_per_message([r for r in results if r["round"] == n]) for n in _rounds(args)]
            overheads = [(m["embedded"] / m["plain"] - 1) * 100 for m in each]
            lines.append(
                "Each round: " + ", ".join(f"{o:+.0f} %" for o in overheads)
                + f" (median {statistics.median(overheads):+.0f} %); plain Synapse itself "
                + ", ".join(f"{m['plain'] * 1000:.1f}" for m in each) + " ms per message."
            )  # fmt: skip
    idle = _idle_per_s(results)
    if idle:
        beyond = {
            kind: (sum(sum(r["cpu"].values()) for r in results if r["deployment"] == kind)
                   - idle[kind] * args.duration * args.rounds)
            / max(1, sum(r["received"] for r in results if r["deployment"] == kind))
            for kind in idle
        }  # fmt: skip
        lines.append(
            f"\nIdle servers (no client connected, {args.idle:g} s before the window"
            + (", mean of the rounds" if args.rounds > 1 else "")
            + "): "
            + ", ".join(f"{kind} {per_s:.3f} CPU s/s" for kind, per_s in idle.items())
            + ". Server CPU per message beyond that base: "
            + ", ".join(f"{kind} {ms * 1000:.1f} ms" for kind, ms in beyond.items())
            + (
                f" (embedded vs plain: {(beyond['embedded'] / beyond['plain'] - 1) * 100:+.0f} %)"
                if "plain" in beyond and "embedded" in beyond
                else ""
            )
            + "."
        )
    for r in results:
        if r.get("db_bytes_per_message") is not None:
            lines.append(
                f"\nSynapse's PostgreSQL database ({_label(r, args)}) grew by "
                f"{r['db_bytes_per_message']:,.0f} bytes per message sent during the window."
            )
    return "\n".join(lines)


if __name__ == "__main__":
    asyncio.run(main())
