"""The inbox worker on a real database: batches, per-event fallback, exactly once with two workers."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.bridge.inbox import InboxWorker
from messenger.db.database import Database
from messenger.db.stores import chat_requests, inbox, registry
from messenger.namespace import BotNamespace
from messenger.rooms.envelope import Envelope, envelope_of
from messenger.rooms.registry import RoomRegistry


def _message(n: int, room: str = "!r:x", sender: str = "@a:x") -> dict[str, Any]:
    return envelope_of(
        {
            "event_id": f"$m{n}",
            "room_id": room,
            "sender": sender,
            "type": "m.room.encrypted",
            "origin_server_ts": 1000 + n,
            "content": {"ciphertext": "c"},
        }
    )


def _join(user: str, room: str = "!r:x") -> dict[str, Any]:
    return envelope_of(
        {
            "event_id": f"$j{user}",
            "room_id": room,
            "sender": user,
            "type": "m.room.member",
            "state_key": user,
            "origin_server_ts": 999,
            "content": {"membership": "join"},
        }
    )


class _FailsOn(RoomRegistry):
    """A registry with a bug that only one event triggers."""

    def __init__(self, event_id: str) -> None:
        super().__init__(BotNamespace("_messenger_", "x"))
        self._poison = event_id

    async def apply(self, conn: AsyncConnection, events: list[Envelope]) -> None:
        if any(event.event_id == self._poison for event in events):
            raise RuntimeError("bug triggered")
        await super().apply(conn, events)


async def _store(db: Database, txn: str, envelopes: list[dict[str, Any]]) -> None:
    async with db.transaction() as conn:
        await inbox.accept_transaction(conn, txn, envelopes, 1)


async def test_batch_counts_messages_per_room_and_member(fresh_db: Database) -> None:
    await fresh_db.migrate()
    await _store(
        fresh_db,
        "1",
        [
            _join("@a:x"),
            _join("@b:x"),
            *[_message(n) for n in range(5)],
            _message(9, sender="@b:x"),
        ],
    )
    assert (
        await InboxWorker(fresh_db, [RoomRegistry(BotNamespace("_messenger_", "x"))]).drain() == 8
    )
    async with fresh_db.transaction() as conn:
        room = await registry.get_room(conn, "!r:x")
        members = {m.user_id: m for m in await registry.members(conn, "!r:x")}
    assert room is not None and room.message_count == 6 and room.last_event_at == 1009
    assert members["@a:x"].message_count == 5 and members["@a:x"].last_active_at == 1004
    assert members["@b:x"].message_count == 1 and members["@b:x"].joined_at == 999


async def test_an_event_that_breaks_the_handler_is_skipped_alone(fresh_db: Database) -> None:
    await fresh_db.migrate()
    await _store(fresh_db, "1", [_join("@a:x"), _message(1), _message(2), _message(3)])
    await InboxWorker(fresh_db, [_FailsOn("$m2")]).drain()
    async with fresh_db.transaction() as conn:
        room = await registry.get_room(conn, "!r:x")
        failures = await inbox.failures(conn)
        counts = await inbox.counts(conn)
    assert room is not None and room.message_count == 2
    assert failures == [("$m2", "RuntimeError: bug triggered")]
    assert counts["pending"] == 0


async def test_two_workers_process_each_event_exactly_once(fresh_db: Database) -> None:
    await fresh_db.migrate()
    await _store(fresh_db, "0", [_join("@a:x")])
    for txn in range(1, 6):
        await _store(fresh_db, str(txn), [_message(txn * 100 + n) for n in range(100)])
    first, second = (
        InboxWorker(fresh_db, [RoomRegistry(BotNamespace("_messenger_", "x"))]) for _ in range(2)
    )
    await asyncio.gather(first.drain(), second.drain())
    assert first.processed + second.processed == 501
    async with fresh_db.transaction() as conn:
        room = await registry.get_room(conn, "!r:x")
    assert room is not None and room.message_count == 500


class _Notifies(RoomRegistry):
    """A handler that queues a notice for a member's join (as the chat-request tracker does)."""

    def __init__(self) -> None:
        super().__init__(BotNamespace("_messenger_", "x"))

    async def apply(self, conn: AsyncConnection, events: list[Envelope]) -> None:
        await super().apply(conn, events)
        for event in events:
            if event.type == "m.room.member":
                await chat_requests.add_notice(conn, event.sender, "request_sent", {}, 1)


async def test_accepted_events_are_processed_in_the_storing_transaction(
    fresh_db: Database,
) -> None:
    """No worker runs: what `accept` stored is processed when it returns (Synapse's 200), and
    the notice courier is woken only after a commit that queued a notice."""
    await fresh_db.migrate()
    woken: list[int] = []
    worker = InboxWorker(fresh_db, [_Notifies()], on_notices=lambda: woken.append(1))
    assert not await worker.accept("1", [_message(1), _message(2)])
    async with fresh_db.transaction() as conn:
        room = await registry.get_room(conn, "!r:x")
        assert (await inbox.counts(conn))["pending"] == 0
    assert room is not None and room.message_count == 2 and woken == []
    await worker.accept("2", [_join("@a:x"), _message(3)])
    assert woken == [1]
    assert await worker.accept("2", [_message(3)])  # a repeated txn id: nothing twice
    async with fresh_db.transaction() as conn:
        room = await registry.get_room(conn, "!r:x")
    assert room is not None and room.message_count == 3 and woken == [1]


class _DatabaseAwayOnce(RoomRegistry):
    """The database fails (a lost connection, a lock timeout) the first time it is used."""

    def __init__(self) -> None:
        super().__init__(BotNamespace("_messenger_", "x"))
        self.failed = False

    async def apply(self, conn: AsyncConnection, events: list[Envelope]) -> None:
        if not self.failed:
            self.failed = True
            raise OperationalError("UPDATE rooms", {}, Exception("database is locked"))
        await super().apply(conn, events)


async def test_a_failure_on_arrival_leaves_the_events_stored_for_the_worker(
    fresh_db: Database,
) -> None:
    """Processing on arrival fails as a whole: the transaction is still stored (Synapse gets
    its 200), nothing is marked failed, and the worker processes the events."""
    await fresh_db.migrate()
    worker = InboxWorker(fresh_db, [_DatabaseAwayOnce()])
    assert not await worker.accept("1", [_message(1), _message(2)])
    async with fresh_db.transaction() as conn:
        assert (await inbox.counts(conn)) == {"stored": 2, "pending": 2, "failed": 0}
    assert await worker.drain() == 2
    async with fresh_db.transaction() as conn:
        room = await registry.get_room(conn, "!r:x")
        assert (await inbox.counts(conn)) == {"stored": 2, "pending": 0, "failed": 0}
    assert room is not None and room.message_count == 2


async def test_on_arrival_nothing_overtakes_a_waiting_event_or_counts_twice(
    fresh_db: Database,
) -> None:
    """Events applied on arrival are stored as processed, unless an older event still waits
    (they queue behind it for the worker) or a new transaction id carries an event stored
    before (a reset homeserver): then the worker applies each event once."""
    await fresh_db.migrate()
    worker = InboxWorker(fresh_db, [RoomRegistry(BotNamespace("_messenger_", "x"))])
    await _store(fresh_db, "0", [_join("@a:x")])  # left by a failure: waits for the worker
    assert not await worker.accept("1", [_message(1)])
    async with fresh_db.transaction() as conn:
        assert (await inbox.counts(conn))["pending"] == 2  # not before the join
        assert [e.event_id for e in await inbox.pending(conn, 10)] == ["$j@a:x", "$m1"]
    assert await worker.drain() == 2

    assert not await worker.accept("2", [_message(1), _message(2)])  # $m1 again, new txn id
    assert await worker.drain() == 1
    async with fresh_db.transaction() as conn:
        room = await registry.get_room(conn, "!r:x")
        member = next(m for m in await registry.members(conn, "!r:x") if m.user_id == "@a:x")
        assert (await inbox.counts(conn)) == {"stored": 3, "pending": 0, "failed": 0}
    assert room is not None and room.message_count == 2
    assert member.message_count == 2


async def test_a_malformed_event_on_arrival_is_recorded_and_the_rest_applied(
    fresh_db: Database,
) -> None:
    await fresh_db.migrate()
    worker = InboxWorker(fresh_db, [RoomRegistry(BotNamespace("_messenger_", "x"))])
    assert not await worker.accept("1", [_message(1), envelope_of("not an event"), _message(2)])
    assert await worker.drain() == 3
    async with fresh_db.transaction() as conn:
        room = await registry.get_room(conn, "!r:x")
        assert (await inbox.counts(conn)) == {"stored": 3, "pending": 0, "failed": 1}
    assert room is not None and room.message_count == 2
