"""Our appservice as two processes behind nginx (homeserver.scaled.appservice_processes: 2):
one leads — runs the bots and the scheduled jobs — the other stands by; a job runs once per
trigger, never in both; when the leader dies, the supervisor starts it again and again exactly
one process leads. Runs last in this package: it kills a process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from typing import Any

import sqlalchemy as sa

from messenger.db.schema import job_runs
from messenger.homeserver.workers import LOOPBACK, worker_map
from tests.scaled_system import ScaledSystem
from tests.system import json_request, messenger_cli

JOB = "chat_request_expiry"  # every second in this package (conftest.py)


async def _instances(system: ScaledSystem) -> list[dict[str, Any]]:
    scaled = system.settings.config.homeserver.scaled
    assert scaled is not None
    found = []
    for port in worker_map(scaled).appservice_ports:
        try:
            status, body = await json_request(
                "GET", f"http://{LOOPBACK}:{port}/_messenger/health", ""
            )
        except OSError:
            status, body = 0, {}
        found.append(body if status == 200 else {})
    return found


async def _roles(
    system: ScaledSystem, want: list[str], timeout: float = 90
) -> list[dict[str, Any]]:
    """Both processes' health once their roles (in port order, sorted) are `want` and the
    leader's bots are ready."""
    deadline = time.monotonic() + timeout
    while True:
        found = await _instances(system)
        roles = sorted(body.get("instance", {}).get("role", "down") for body in found)
        leaders = [b for b in found if b.get("instance", {}).get("role") == "leader"]
        if roles == sorted(want) and all(
            state == "ready" for b in leaders for state in b["bots"].values()
        ):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"roles {roles}, wanted {want}: {found}")
        await asyncio.sleep(1)


async def _job(system: ScaledSystem, name: str) -> Any:
    async with system.db.reading() as conn:
        return (await conn.execute(sa.select(job_runs).where(job_runs.c.name == name))).one()


def _finished(system: ScaledSystem, number: int) -> int:
    """How often the process logged that it ran the job."""
    path = system.settings.log_dir / f"appservice{number}.log"
    return path.read_text(errors="replace").count(f"job {JOB} finished") if path.exists() else 0


async def test_one_of_two_appservice_processes_runs_bots_and_jobs_and_the_other_takes_over(
    system: ScaledSystem,
) -> None:
    found = await _roles(system, ["leader", "standby"])
    leader = next(b for b in found if b["instance"]["role"] == "leader")
    standby = next(b for b in found if b["instance"]["role"] == "standby")
    assert set(standby["bots"].values()) == {"standby"}
    assert (await _job(system, "_scheduler")).holder.split(":")[1] == str(leader["instance"]["pid"])
    # `messenger status` asks each process itself and reports the leader's bots
    status = json.loads(
        (
            await asyncio.to_thread(
                messenger_cli, "status", "--data-dir", str(system.data_dir), "--json"
            )
        ).stdout
    )
    assert status["healthy"] is True
    assert sorted(i["detail"]["instance"]["role"] for i in status["appservice"]["instances"]) == [
        "leader", "standby",
    ]  # fmt: skip
    assert status["appservice"]["detail"]["instance"]["pid"] == leader["instance"]["pid"]

    # a job every second: in a window of W seconds it runs about W times — not twice as often —
    # and only the leader runs it
    before = (await _job(system, JOB)).runs
    standby_runs = _finished(system, standby["instance"]["number"])
    window = 12
    await asyncio.sleep(window)
    ran = (await _job(system, JOB)).runs - before
    assert window / 3 <= ran <= window + 2, ran
    assert _finished(system, standby["instance"]["number"]) == standby_runs

    # the leader dies: the supervisor starts it again; whichever process claims the lease first
    # (the standby at its next renewal, or the new process at its start: the dead holder's
    # lease is taken over at once on the same host) starts the bots and runs the jobs, the
    # other stands by — again exactly one leader, with its bots ready
    os.kill(leader["instance"]["pid"], signal.SIGKILL)
    found = await _roles(system, ["leader", "standby"], timeout=120)
    new_leader = next(b for b in found if b["instance"]["role"] == "leader")
    assert leader["instance"]["pid"] not in [b["instance"]["pid"] for b in found]
    assert (await _job(system, "_scheduler")).holder.split(":")[1] == str(
        new_leader["instance"]["pid"]
    )
    before = (await _job(system, JOB)).runs
    await asyncio.sleep(5)
    assert (await _job(system, JOB)).runs > before
    # and through the front (nginx on appservice.port) the deployment answers as before
    status, body = await json_request("GET", system.as_url + "/_messenger/health", "")
    assert status == 200 and body["status"] == "ok"
