"""How long to hold back the answer to a Synapse transaction (no I/O: a timed wait).

Synapse has at most one transaction in flight per appservice and sends, with the next one,
every event that queued meanwhile (up to 100). Under steady traffic an immediate answer means one
transaction per event, and the cost of a transaction (HTTP on both sides, Synapse's own
bookkeeping, one database transaction here) is paid per event. Holding the answer to a small
transaction until `window` has passed since the previous answer lets the next one carry what
queued in that time: at most one small transaction per window.

The events are stored and applied before the hold; only the answer waits. So the hold adds
nothing when traffic is sparse (the previous answer is long past), and under traffic it delays
the room registry, never a message between users, by at most `window`. A full transaction is
answered at once: Synapse has a backlog, and holding would only slow the catch-up.

Synapse keeps the events queued behind a transaction in memory only (it has already noted them
as handed over): if Synapse itself stops or crashes meanwhile, they never reach us — its own
limitation, which the hold widens from the few milliseconds of a transaction to the window. What
Synapse has put into a transaction it stores and retries. So the appservice stops first (`messenger
up` stops in reverse order): it releases the pace and lets Synapse empty its queue
(`TransactionServer.drain`); what Synapse queues after that goes into stored transactions,
retried once its appservice scheduler runs again (with the first new event after a restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

FULL = 100  # Synapse's MAX_PERSISTENT_EVENTS_PER_TRANSACTION


class AnswerPace:
    def __init__(self, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window_s
        self._clock = clock
        self._last = float("-inf")  # when the previous answer went (or will go) out
        self._released = asyncio.Event()

    def release(self) -> None:
        """From now on every answer goes out at once, and so do those being held."""
        self._released.set()

    def hold(self, events: int) -> float:
        """Seconds to wait before answering a transaction of `events` events just handled."""
        if self._released.is_set():
            return 0.0
        now = self._clock()
        wait = 0.0 if events >= FULL else max(0.0, self._last + self._window - now)
        self._last = now + wait
        return wait

    async def wait(self, events: int) -> None:
        """Hold the answer to a transaction of `events` events just handled (`hold`); a
        `release` ends the wait at once."""
        hold = self.hold(events)
        if hold > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), hold)
