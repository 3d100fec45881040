"""The policy-change log the Synapse module follows (SQLite and PostgreSQL): one tick per
committed transaction with its users, nothing from a rolled-back one, whole ticks per answer,
pruning and the reset a follower that fell behind gets."""

from __future__ import annotations

import asyncio

import pytest

from messenger.db.database import BEFORE_COMMIT, Database, now_ms
from messenger.db.schema import policy_clock
from messenger.db.stores import policy_changes


async def test_a_committed_transaction_logs_its_users_under_one_tick(fresh_db: Database) -> None:
    await fresh_db.migrate()
    async with fresh_db.reading() as conn:
        start, _pruned = await policy_changes.clock(conn)
    async with fresh_db.transaction() as conn:
        policy_changes.note(conn, "@a:x")
        policy_changes.note(conn, ["@b:x", "@a:x"])
    with pytest.raises(RuntimeError):
        async with fresh_db.transaction() as conn:
            policy_changes.note(conn, "@lost:x")
            raise RuntimeError("rolled back")
    async with fresh_db.transaction() as conn:  # nothing noted: no tick, and no leftover
        assert BEFORE_COMMIT not in conn.info
    async with fresh_db.transaction() as conn:
        policy_changes.note(conn, "@c:x")
    async with fresh_db.reading() as conn:
        first = await policy_changes.since(conn, start)
        assert sorted(first.users) == ["@a:x", "@b:x", "@c:x"]
        assert (first.through, first.clock, first.reset) == (start + 2, start + 2, False)
        later = await policy_changes.since(conn, start + 1)
        assert later.users == ["@c:x"]
        assert (await policy_changes.since(conn, start + 2)).users == []


async def test_an_answer_ends_on_a_whole_tick(fresh_db: Database) -> None:
    await fresh_db.migrate()
    for batch in (["@1:x", "@2:x"], ["@3:x", "@4:x", "@5:x"]):
        async with fresh_db.transaction() as conn:
            policy_changes.note(conn, batch)
    async with fresh_db.reading() as conn:
        head = await policy_changes.since(conn, 0, limit=3)
        assert sorted(head.users) == ["@1:x", "@2:x"] and head.through == 1
        rest = await policy_changes.since(conn, head.through, limit=1)  # one tick bigger than
        assert sorted(rest.users) == ["@3:x", "@4:x", "@5:x"] and rest.through == 2  # the limit


async def test_pruning_resets_a_follower_that_fell_behind(fresh_db: Database) -> None:
    await fresh_db.migrate()
    async with fresh_db.transaction() as conn:
        policy_changes.note(conn, "@old:x")
    async with fresh_db.transaction() as conn:
        assert await policy_changes.prune(conn, now_ms() + policy_changes.KEEP_MS + 1) == 1
    async with fresh_db.transaction() as conn:
        policy_changes.note(conn, "@new:x")
    async with fresh_db.reading() as conn:
        behind = await policy_changes.since(conn, 0)
        assert behind.reset and behind.users == [] and behind.through == 2
        assert (await policy_changes.since(conn, 1)).users == ["@new:x"]
        assert (await policy_changes.since(conn, 99)).reset  # a tick from another database


async def test_a_transaction_cancelled_while_waiting_for_a_lock_ends_cancelled(
    fresh_db: Database,
) -> None:
    """A cancelled transaction must end cancelled: tidying its connection afterwards may not
    raise anything else in its place (a scheduler that was told to stop went on for ever)."""
    await fresh_db.migrate()
    other = Database(fresh_db.url)
    holding = asyncio.Event()
    release = asyncio.Event()

    async def hold_the_clock() -> None:
        async with other.transaction() as conn:
            await conn.execute(policy_clock.update().values(seq=policy_clock.c.seq))
            holding.set()
            await release.wait()

    async def wait_for_the_clock() -> None:
        async with fresh_db.transaction() as conn:
            policy_changes.note(conn, "@waiting:x")

    holder = asyncio.create_task(hold_the_clock())
    try:
        await holding.wait()
        waiter = asyncio.create_task(wait_for_the_clock())
        await asyncio.sleep(0.3)
        assert not waiter.done()
        waiter.cancel()
        release.set()  # SQLite's wait for the lock runs in a thread that a cancel cannot stop
        with pytest.raises(asyncio.CancelledError):
            await waiter
    finally:
        release.set()
        await holder
        await other.close()
    async with fresh_db.transaction() as conn:  # the pool still hands out usable connections
        policy_changes.note(conn, "@after:x")


async def test_a_change_by_another_process_wakes_a_waiting_long_poll(
    fresh_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The module's long poll waits in this process; a CLI command or the other appservice
    process writes. On PostgreSQL its NOTIFY wakes the poll, on SQLite its touch of the signal
    file (the clock itself is read only every 30 s here, so only those can be in time)."""
    from messenger.config import ChatRequestsSection
    from messenger.namespace import BotNamespace
    from messenger.requests import facts

    monkeypatch.setattr(facts, "SAFETY_READ_S", 30.0)
    await fresh_db.migrate()
    other = Database(fresh_db.url)  # its commits do not reach this process's in-memory wake
    policy = facts.PolicyFacts(fresh_db, BotNamespace("_messenger_", "x"), ChatRequestsSection())
    try:
        async with fresh_db.reading() as conn:
            start, _pruned = await policy_changes.clock(conn)
        for round_ in range(2):  # also once the watch is running
            waiting = asyncio.ensure_future(policy.changes(start, 30))
            await asyncio.sleep(1.0)  # the poll waits (and on PostgreSQL LISTENs)
            assert not waiting.done()
            async with other.transaction() as conn:
                policy_changes.note(conn, f"@changed{round_}:x")
            answer = await asyncio.wait_for(waiting, 10)  # long before the poll's own 30 s
            assert answer["tick"] == start + 1 and f"@changed{round_}:x" in answer["records"]
            start = answer["tick"]
    finally:
        await other.close()


async def test_a_waiting_long_poll_is_answered_at_once_when_the_server_stops(
    fresh_db: Database,
) -> None:
    """At stop the appservice answers the module's long polls instead of letting them hold the
    stop for up to their wait (the runner would cancel them only after SHUTDOWN_S)."""
    from messenger.config import ChatRequestsSection
    from messenger.namespace import BotNamespace
    from messenger.requests import facts

    await fresh_db.migrate()
    policy = facts.PolicyFacts(fresh_db, BotNamespace("_messenger_", "x"), ChatRequestsSection())
    async with fresh_db.reading() as conn:
        start, _pruned = await policy_changes.clock(conn)
    waiting = asyncio.ensure_future(policy.changes(start, 30))
    await asyncio.sleep(0.5)
    assert not waiting.done()
    policy.close()
    answer = await asyncio.wait_for(waiting, 10)  # long before the poll's own 30 s
    assert answer["tick"] == start and answer["records"] == {}
    later = await asyncio.wait_for(policy.changes(start, 30), 10)  # one after it: at once too
    assert later["tick"] == start
