"""Handler: the facts our Synapse module decides invites and joins with.

The module keeps a record per user in memory (policy/records.py) and follows the policy-change
log (db/stores/policy_changes.py) to keep them current: `changes` answers with the records of
everybody who changed since the module's last tick, waiting up to a few seconds for a change
(long poll); `records` answers for users the module has not seen yet. Each answer carries
`as_of`, the newest tick when it was read: a record never replaces one read at a later tick.
Roles as `accounts/roles.py` defines them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.accounts.roles import role_of
from messenger.config import ChatRequestsSection
from messenger.db.database import Database, now_ms, stamp
from messenger.db.stores import chat_requests as store
from messenger.db.stores import invite_permissions, policy_changes
from messenger.ids import Role
from messenger.namespace import BotNamespace
from messenger.policy.records import DAY_MS, Limits, UserFacts

log = logging.getLogger(__name__)
MAX_USERS = 1000
MAX_WAIT_S = 30.0
# SQLite: how often the signal file is looked at for other processes' changes (the CLI's) while
# long polls wait; this process's own commits wake at once. 20 looks a second cost 0.4 % of a core
POLL_S = 0.25
SAFETY_READ_S = 2.0  # NOTIFY (PostgreSQL) or the signal file (SQLite) wake; the clock is read
# this often anyway, in case a notification was lost with a connection or a writer died
LINGER_S = 5.0  # the clock watch goes on this long after the last long poll (the next comes)
CLOSING_PAUSE_S = 0.2  # after close(): a long poll is answered after this, not in a tight loop


class ClockWatch:
    """Wakes the waiting long polls when the policy clock moves. This process's writes wake them
    at once (after commit). Another process's writes (a CLI command, another appservice
    process): on PostgreSQL its NOTIFY wakes them (a LISTEN connection); on SQLite the writer
    touches the database's signal file, which is looked at (a stat, no query) every POLL_S.
    Either way the clock is also read every SAFETY_READ_S, in case a notification was lost.
    One watch for the whole process, however many long polls wait (every Synapse process of
    the scaled deployment holds one)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._waiting: set[asyncio.Event] = set()
        self._task: asyncio.Task[None] | None = None
        db.after_hooked_commit.append(self.wake)

    def wake(self) -> None:
        for waiter in self._waiting:
            waiter.set()

    @contextlib.contextmanager
    def waiting(self) -> Iterator[asyncio.Event]:
        """Register before reading: a change committed after the read still wakes."""
        woken = asyncio.Event()
        self._waiting.add(woken)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._watch(), name="policy clock watch")
        try:
            yield woken
        finally:
            self._waiting.discard(woken)

    async def _listen(self) -> asyncpg.Connection | None:
        """On PostgreSQL, a connection LISTENing to the policy clock's NOTIFY (None: poll)."""
        if self._db.dialect != "postgresql":
            return None
        url = make_url(self._db.url).set(drivername="postgresql")
        try:
            listener = await asyncpg.connect(url.render_as_string(hide_password=False))
            await listener.add_listener(policy_changes.CHANNEL, lambda *_: self.wake())
        except Exception:  # refused, unreachable, a driver error: the poll still works
            log.warning(
                "cannot LISTEN for policy changes; reading the clock instead", exc_info=True
            )
            return None
        return listener

    async def _watch(self) -> None:
        listener = await self._listen()
        try:
            await self._read_clock(listener)
        finally:
            # at once, before the await below: a long poll arriving from now on starts a new
            # watch instead of finding this one still "running" while it closes
            self._task = None
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()

    async def _read_clock(self, listener: asyncpg.Connection | None) -> None:
        """Until no long poll has waited for LINGER_S. The first read wakes every waiter: a
        change may have come between its own read and this one (or before the LISTEN)."""
        signal = self._db.commit_signal
        seen: int | None = None
        signalled: int | None = None
        last_read = last_waiter = time.monotonic()
        while self._waiting or time.monotonic() - last_waiter < LINGER_S:
            if self._waiting:
                last_waiter = time.monotonic()
            listening = listener is not None and not listener.is_closed()
            if signal is not None:  # SQLite: other processes touch the file after a change
                stamped, signalled = signalled, stamp(signal)
                changed = stamped != signalled
            else:
                changed = not listening  # no signal, no NOTIFY: read every time
            if seen is None or changed or time.monotonic() - last_read >= SAFETY_READ_S:
                last_read = time.monotonic()
                try:
                    async with self._db.reading() as conn:
                        tick, _pruned = await policy_changes.clock(conn)
                except Exception:  # the database away for a moment: the long polls time out
                    log.warning("policy clock not readable; retrying", exc_info=True)
                else:
                    if tick != seen:
                        self.wake()
                    seen = tick
            await asyncio.sleep(SAFETY_READ_S if listening else POLL_S)


class PolicyFacts:
    def __init__(self, db: Database, bots: BotNamespace, limits: ChatRequestsSection) -> None:
        self._db = db
        self._bots = bots
        self._limits = Limits(limits.max_open_per_patient, limits.max_per_day)
        self._clock = ClockWatch(db)
        self._closing = False

    def close(self) -> None:
        """The server is stopping: the waiting long polls are answered now (with what changed,
        if anything) and later ones after CLOSING_PAUSE_S, so that none holds the stop for its
        full wait. Answers, not errors: a module whose next poll reaches the other appservice
        process (scaled) keeps the records it holds."""
        self._closing = True
        self._clock.wake()

    async def _record(self, conn: AsyncConnection, user: str, now: int) -> UserFacts:
        role = await role_of(conn, user, self._bots)
        permissions = await invite_permissions.of_user(conn, user)
        if role != Role.PATIENT.value:
            return UserFacts(role=role, permissions=permissions)
        open_requests, started = await store.open_and_started(conn, user, now - DAY_MS)
        return UserFacts(
            role=role,
            open_requests=open_requests,
            started=tuple(started),
            grants=frozenset(await store.grants_of(conn, user)),
            peers=await store.peers_of(conn, user),
            permissions=permissions,
        )

    async def _records(self, conn: AsyncConnection, users: list[str]) -> dict[str, Any]:
        now = now_ms()
        return {user: (await self._record(conn, user, now)).as_json() for user in users}

    async def records(self, users: list[str]) -> dict[str, Any]:
        """The records of `users` (at most MAX_USERS), with the tick they are current at."""
        async with self._db.reading() as conn:
            tick, _pruned = await policy_changes.clock(conn)
            return {
                "as_of": tick,
                "limits": self._limits.as_json(),
                "records": await self._records(conn, list(dict.fromkeys(users))[:MAX_USERS]),
            }

    async def changes(self, since: int, wait_s: float) -> dict[str, Any]:
        """The records of the users changed after tick `since`; waits up to `wait_s` for one.
        `reset` says the log no longer reaches back that far (or `since` is unknown): the
        follower drops what it holds and goes on from `tick`."""
        if self._closing:  # the module polls again at once after each answer: not in a loop
            await asyncio.sleep(CLOSING_PAUSE_S)
        deadline = time.monotonic() + min(max(wait_s, 0.0), MAX_WAIT_S)
        while True:
            with self._clock.waiting() as woken:
                answer = await self._changes_now(
                    since, self._closing or time.monotonic() >= deadline
                )
                if answer is not None:
                    return answer
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), max(0.0, deadline - time.monotonic()))

    async def _changes_now(self, since: int, last_look: bool) -> dict[str, Any] | None:
        async with self._db.reading() as conn:
            found = await policy_changes.since(conn, since)
            if not (found.users or found.reset or last_look):
                return None
            users = [user for user in found.users if user != policy_changes.DIRECTORY]
            return {
                "tick": found.through,
                "as_of": found.clock,
                "reset": found.reset,
                "limits": self._limits.as_json(),
                "records": await self._records(conn, users),
                # the visible practices changed: the follower fetches them again
                "directory": len(users) != len(found.users),
            }

    async def permissions(self, user: str, kind: str, content: Any, backfill: bool) -> bool:
        """A user's invite permission settings as the module passed them on: a client's change
        (overwrites), or what it read from Synapse for a user without a row (fills the gap only
        if nothing got there first). True if stored."""
        async with self._db.transaction() as conn:
            if backfill:
                return await invite_permissions.put_if_absent(conn, user, kind, content, now_ms())
            await invite_permissions.put(conn, user, kind, content, now_ms())
            return True
