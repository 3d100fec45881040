"""Runs child processes (Synapse, the appservice) in order, restarts one that dies, and stops them
all in reverse order on Ctrl-C / SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)
Ready = Callable[[], Awaitable[bool]]
MAX_RESTARTS = 5
RESTART_WINDOW_S = 300.0


class SupervisorError(Exception):
    pass


@dataclass
class Child:
    name: str
    argv: list[str]
    log_path: Path
    ready: Ready
    ready_timeout: float = 120.0
    # run (in a thread) before every start, restarts included; a failure is logged, not fatal
    prepare: Callable[[], object] | None = None
    process: asyncio.subprocess.Process | None = None
    restarts: list[float] = field(default_factory=list)
    _log: IO[bytes] | None = None

    async def start(self, stopping: asyncio.Event) -> None:
        """Start and wait until ready; returns early (child stopped) if a stop is requested."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self.prepare is not None:
            try:
                await asyncio.to_thread(self.prepare)
            except Exception:
                log.exception("%s: preparing its start failed; starting it anyway", self.name)
        # kept open while the child runs; opening a local file does not block meaningfully
        self._log = open(self.log_path, "ab")  # noqa: SIM115, ASYNC230
        self.process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop children in order
        )
        deadline = time.monotonic() + self.ready_timeout
        while not await self.ready():
            if stopping.is_set():
                await self.stop()
                return
            if self.process.returncode is not None:
                raise SupervisorError(
                    f"{self.name} exited with code {self.process.returncode} while starting; "
                    f"see {self.log_path}"
                )
            if time.monotonic() > deadline:
                await self.stop()
                raise SupervisorError(f"{self.name} did not become ready; see {self.log_path}")
            await asyncio.sleep(0.3)

    async def stop(self, timeout: float = 30.0) -> None:
        process = self.process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout)
            except TimeoutError:
                log.warning("%s did not stop within %.0f s; killing it", self.name, timeout)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None


class Supervisor:
    def __init__(self, children: list[Child], on_change: Callable[[], None]) -> None:
        self.children = children
        self._on_change = on_change
        self._stopping = asyncio.Event()

    def request_stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.request_stop)
        try:
            for child in self.children:
                log.info("starting %s", child.name)
                await child.start(self._stopping)
                if self._stopping.is_set():
                    return
                self._on_change()
            await self._watch()
        finally:
            for child in reversed(self.children):
                log.info("stopping %s", child.name)
                await child.stop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)

    async def _watch(self) -> None:
        while not self._stopping.is_set():
            waits = {
                asyncio.ensure_future(child.process.wait()): child
                for child in self.children
                if child.process is not None
            }
            stop = asyncio.ensure_future(self._stopping.wait())
            done, pending = await asyncio.wait([*waits, stop], return_when=asyncio.FIRST_COMPLETED)
            for future in pending:
                future.cancel()
            if stop in done:
                return
            for future in done:
                await self._restart(waits[future])

    async def _restart(self, child: Child) -> None:
        code = child.process.returncode if child.process else None
        now = time.monotonic()
        child.restarts = [at for at in child.restarts if now - at < RESTART_WINDOW_S] + [now]
        if len(child.restarts) > MAX_RESTARTS:
            raise SupervisorError(
                f"{child.name} died {MAX_RESTARTS} times in {RESTART_WINDOW_S:.0f} s; giving up "
                f"(see {child.log_path})"
            )
        delay = 2 ** (len(child.restarts) - 1)
        log.warning("%s exited with code %s; restarting in %d s", child.name, code, delay)
        await child.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)
        if self._stopping.is_set():
            return
        await child.start(self._stopping)
        self._on_change()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
