"""The scaled deployment under test: `messenger up` with `homeserver.scaled` — Synapse's main
process and workers on PostgreSQL with Redis, nginx in front, our appservice on PostgreSQL —
in a temporary data directory, on free ports, with databases of its own (dropped afterwards)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from messenger.homeserver.postgres import drop_database
from tests.system import Process, System, postgres_url, wait_http

CLIENT_WORKERS = 2
PROCESS_PORTS = 2 + 3 + CLIENT_WORKERS  # main (client, replication), 3 workers, client workers


def missing() -> str | None:
    """Why the scaled deployment cannot run here (None: it can)."""
    if postgres_url() is None:
        return "PostgreSQL not configured (set MESSENGER_TEST_POSTGRES_URL)"
    if shutil.which("nginx") is None:
        return "nginx not installed (apt install nginx)"
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError:
        return "Redis not reachable on 127.0.0.1:6379"
    return None


def free_port_block(size: int) -> int:
    """The first of `size` consecutive loopback ports that are free now."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = int(probe.getsockname()[1])
        if first + size > 65000:
            continue
        sockets = []
        try:
            for port in range(first, first + size):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError(f"no {size} consecutive free ports")


async def wait_up(up: Process, hs_url: str, as_url: str) -> None:
    """Until `messenger up` serves the homeserver and the appservice with its bots ready;
    fails at once, with its last words, if it exits."""

    async def ready() -> None:
        await wait_http(hs_url + "/health", timeout=300)
        await wait_http(
            as_url + "/_messenger/health", timeout=120,
            expect=lambda body: all(state == "ready" for state in body["bots"].values()),
        )  # fmt: skip

    async def exited() -> None:
        while up.proc is not None and up.proc.poll() is None:
            await asyncio.sleep(0.5)
        tail = up.log.read_text(errors="replace")[-2000:]
        raise AssertionError(f"messenger up exited ({up.proc and up.proc.returncode}):\n{tail}")

    watch = asyncio.ensure_future(exited())
    try:
        await ready()
    finally:
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch


class ScaledSystem(System):
    def __init__(
        self,
        data_dir: Path,
        appservice_processes: int = 1,
        chat_requests_check: str = "1m",
        extra: dict[str, Any] | None = None,
    ) -> None:
        tag = uuid.uuid4().hex[:10]
        base = make_url(postgres_url() or "")
        self.synapse_url = base.set(
            drivername="postgresql", database=f"synapse_scaled_{tag}"
        ).render_as_string(hide_password=False)
        self.ours_url = base.set(
            drivername="postgresql+asyncpg", database=f"messenger_scaled_{tag}"
        ).render_as_string(hide_password=False)
        super().__init__(
            data_dir,
            extra=extra,
            overrides={
                "database": {"url": self.ours_url},
                "chat_requests": {
                    "max_open_per_patient": 2,
                    "max_per_day": 3,
                    "check_every": chat_requests_check,
                },
            },
            scaled={
                "synapse_database": self.synapse_url,
                "internal_port": free_port_block(PROCESS_PORTS + appservice_processes),
                "client_workers": CLIENT_WORKERS,
                "appservice_processes": appservice_processes,
            },
            # Redis channels are named after the server: its own name keeps runs apart
            server_name=f"scaled-{tag}.test",
        )
        self.up = Process(
            [sys.executable, "-m", "messenger", "up", "--data-dir", str(data_dir)],
            data_dir / "logs" / "up.stdout.log",
        )

    async def start(self) -> None:
        self.up.start()
        try:
            await wait_up(self.up, self.hs_url, self.as_url)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """SIGTERM to `messenger up`: it stops its children in reverse order."""
        process = self.up.proc
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                await asyncio.to_thread(process.wait, 180)
            except subprocess.TimeoutExpired:
                process.kill()
        await self.db.close()
        for url in (self.synapse_url, self.ours_url):
            drop_database(url)

    def files_containing(self, needles: list[str], pattern: str = "**/*") -> list[str]:
        """The data dir's files, and both PostgreSQL databases dumped as text."""
        found = super().files_containing(needles, pattern)
        for url in (self.synapse_url, self.ours_url):
            target = make_url(url)
            dump = subprocess.run(
                ["pg_dump", "--data-only", "-h", target.host or "127.0.0.1",
                 "-p", str(target.port or 5432), "-U", target.username or "postgres",
                 str(target.database)],
                capture_output=True, check=True, timeout=300,
                env={**os.environ, "PGPASSWORD": target.password or ""},
            )  # fmt: skip
            found += [f"{target.database}: {n}" for n in needles if n.encode() in dump.stdout]
        return found
