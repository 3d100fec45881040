"""What the bots' outboxes share: a loop that sends what is due, sleeps until woken (or a poll
interval passes) when nothing was, and is an owned task (started once, cancelled on stop)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from abc import ABC, abstractmethod

from messenger.bots.runtime import BotRuntime
from messenger.db.database import now_ms

log = logging.getLogger(__name__)
POLL_S = 2.0
KEEP_SENT_MS = 7 * 86_400_000
PRUNE_EVERY_S = 3600.0


class Courier(ABC):
    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_prune = 0.0

    @abstractmethod
    async def send_pending(self, runtime: BotRuntime) -> int:
        """Send what is due now; returns how many were sent."""

    @abstractmethod
    async def prune(self, sent_before: int) -> None:
        """Drop rows sent before this instant."""

    def wake(self) -> None:
        self._wake.set()

    def start(self, runtime: BotRuntime, name: str) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(runtime), name=name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def run(self, runtime: BotRuntime) -> None:
        while True:
            self._wake.clear()
            try:
                sent = await self.send_pending(runtime)
                if time.monotonic() - self._last_prune > PRUNE_EVERY_S:
                    self._last_prune = time.monotonic()
                    await self.prune(now_ms() - KEEP_SENT_MS)
            except Exception:
                log.exception("%s: sending failed, retrying in 5 s", type(self).__name__)
                await asyncio.sleep(5)
                continue
            if not sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=POLL_S)
