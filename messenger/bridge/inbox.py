"""The inbox worker: processes stored envelopes in arrival order, each exactly once.

Events are handled as they arrive, in the database transaction that stores them (`accept`,
which stores them as processed); what that leaves (a failure, a backlog, a repeat) the worker
takes. Either way a batch is marked processed
and applied in one transaction, so a crash leaves an event either pending (processed after
restart) or done — never twice. A malformed event, or one our code fails on, is recorded with
its error and skipped; it never blocks the events behind it. A database outage (connection lost,
lock timeout, deadlock) never marks an event failed: the batch rolls back and the worker retries
it after a pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.database import Database, now_ms
from messenger.db.stores import chat_requests
from messenger.db.stores import inbox as inbox_store
from messenger.rooms.envelope import Envelope, MalformedEvent, parse_envelope

log = logging.getLogger(__name__)


_TRANSIENT = (OperationalError, InterfaceError)


class EventHandler(Protocol):
    async def apply(self, conn: AsyncConnection, events: list[Envelope]) -> None:
        """Apply events (arrival order) inside the transaction that marks them processed."""


class _Contended(Exception):
    """Another worker marked some of this batch first."""


class _Repeated(Exception):
    """A transaction under a new id carries events stored before (a reset homeserver)."""


BATCH = 200
DEDUPE_RETENTION_MS = 7 * 24 * 3600 * 1000
PRUNE_EVERY_S = 3600.0


class InboxWorker:
    def __init__(
        self,
        db: Database,
        handlers: Sequence[EventHandler],
        on_notices: Callable[[], None] | None = None,
    ) -> None:
        """`on_notices` is called after a commit in which the handlers queued notices."""
        self._db = db
        self._handlers = handlers
        self._on_notices = on_notices
        self._wake = asyncio.Event()
        self._last_prune = 0.0
        self.processed = 0

    async def accept(self, txn_id: str, envelopes: list[dict[str, Any]]) -> bool:
        """Store a transaction durably (before Synapse gets its 200). When nothing older waits,
        its events are applied in the same database transaction and stored as processed: one
        transaction of a few statements, no read-back. Anything else - a repeated transaction
        id or event, an older event still waiting, a malformed event, a handler or the
        database failing - stores them for the worker, which takes them in order (a failed
        attempt is rolled back whole first). Returns True when the transaction id was seen
        before."""
        at = now_ms()
        try:
            async with self._db.transaction() as conn:
                duplicate = await inbox_store.add_transaction(conn, txn_id, len(envelopes), at)
                if duplicate:  # its events may be new (a reset homeserver): stored, not lost
                    await inbox_store.add_events(conn, txn_id, envelopes, at)
                    applied = False
                else:
                    applied = await self._apply_on_arrival(conn, txn_id, envelopes, at)
                notices = chat_requests.notices_queued(conn)
        except Exception as exc:  # events seen before (a replay after a restart) are no alarm
            level = logging.INFO if isinstance(exc, _Repeated) else logging.WARNING
            log.log(level, "inbox: processing on arrival failed (%s); the worker takes it", exc)
            async with self._db.transaction() as conn:
                duplicate = await inbox_store.accept_transaction(conn, txn_id, envelopes, at)
            self._wake.set()
            return duplicate
        if applied:
            self.processed += len(envelopes)
            self._notify(notices)
        elif envelopes:
            self._wake.set()
        return duplicate

    async def _apply_on_arrival(
        self, conn: AsyncConnection, txn_id: str, envelopes: list[dict[str, Any]], at: int
    ) -> bool:
        """Apply and store as processed; False (stored for the worker) when an older event
        waits. Raises when the events need the worker's care: the caller rolls back."""
        if not envelopes:
            return False
        if await inbox_store.has_pending(conn):
            await inbox_store.add_events(conn, txn_id, envelopes, at)
            return False
        events = [parse_envelope(kept) for kept in envelopes]
        stored = await inbox_store.add_events(conn, txn_id, envelopes, at, processed=True)
        if stored != len(envelopes):
            raise _Repeated(f"{len(envelopes) - stored} of {len(envelopes)} events stored before")
        await self._apply(conn, events)
        return True

    def _notify(self, notices: bool) -> None:
        if notices and self._on_notices is not None:
            self._on_notices()

    async def counts(self) -> dict[str, int]:
        async with self._db.transaction() as conn:
            return await inbox_store.counts(conn)

    async def run(self) -> None:
        while True:
            self._wake.clear()  # before draining: a wake during the drain is not lost
            try:
                await self.drain()
                await self._maybe_prune()
            except SQLAlchemyError:
                log.exception("inbox: database unavailable, retrying in 5 s")
                await asyncio.sleep(5)
                continue
            except Exception:
                log.exception("inbox: unexpected error, retrying in 5 s")
                await asyncio.sleep(5)
                continue
            # what was pending is done; an event accepted since has set the wake (cleared
            # before draining); one accepted by another process is that process's to work off
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=5)

    async def drain(self) -> int:
        """Process what is pending now; returns how many events were handled. A batch smaller
        than BATCH was all there was: no further (empty) round trip for it."""
        handled = 0
        while True:
            async with self._db.transaction() as conn:
                batch = await inbox_store.pending(conn, BATCH)
                await self._process(conn, batch)
                notices = chat_requests.notices_queued(conn)
            self._notify(notices)
            handled += len(batch)
            if len(batch) < BATCH:
                return handled

    async def _process(self, conn: AsyncConnection, batch: list[inbox_store.InboxEvent]) -> None:
        """Fast path: the whole batch in one savepoint. If anything in it fails, redo it one
        event per savepoint, so only the failing event is recorded as failed and skipped."""
        good: list[tuple[inbox_store.InboxEvent, Envelope]] = []
        for item in batch:
            try:
                good.append((item, parse_envelope(item.envelope)))
            except MalformedEvent as exc:
                await self._fail(conn, item, str(exc))
        try:
            async with conn.begin_nested():
                if not await inbox_store.mark_many_processed(
                    conn, [item.id for item, _ in good], now_ms()
                ):
                    raise _Contended
                await self._apply(conn, [event for _, event in good])
            self.processed += len(good)
            return
        except _Contended:
            pass
        except _TRANSIENT:
            raise
        except Exception:
            log.warning("inbox: batch of %d failed; processing it event by event", len(good))
        for item, event in good:
            await self._process_one(conn, item, event)

    async def _process_one(
        self, conn: AsyncConnection, item: inbox_store.InboxEvent, event: Envelope
    ) -> None:
        try:
            async with conn.begin_nested():
                if await inbox_store.mark_processed(conn, item.id, now_ms()):
                    await self._apply(conn, [event])
                    self.processed += 1
        except _TRANSIENT:
            raise  # the database, not the event: the batch rolls back and is retried
        except Exception as exc:
            log.exception("inbox: event %s failed; skipped", item.event_id)
            await self._fail(conn, item, f"{type(exc).__name__}: {exc}"[:500])

    async def _apply(self, conn: AsyncConnection, events: list[Envelope]) -> None:
        for handler in self._handlers:
            await handler.apply(conn, events)

    async def _fail(self, conn: AsyncConnection, item: inbox_store.InboxEvent, reason: str) -> None:
        log.warning("inbox: event %s skipped: %s", item.event_id, reason)
        await inbox_store.mark_processed(conn, item.id, now_ms(), error=reason)

    async def _maybe_prune(self) -> None:
        if time.monotonic() - self._last_prune < PRUNE_EVERY_S:
            return
        self._last_prune = time.monotonic()
        async with self._db.transaction() as conn:
            removed = await inbox_store.prune(conn, now_ms() - DEDUPE_RETENTION_MS)
        if removed:
            log.info("inbox: pruned %d processed events older than 7 days", removed)
