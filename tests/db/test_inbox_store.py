"""The inbox dedupes by transaction id and event id, marks each event processed once, and prunes."""

from __future__ import annotations

from messenger.db.database import Database
from messenger.db.stores import inbox


def _event(n: int) -> dict[str, object]:
    return {
        "event_id": f"$e{n}",
        "room_id": "!r:x",
        "sender": "@a:x",
        "type": "m.room.encrypted",
        "origin_server_ts": n,
    }


async def test_duplicate_transaction_and_events_are_stored_once(fresh_db: Database) -> None:
    await fresh_db.migrate()
    async with fresh_db.transaction() as conn:
        assert await inbox.accept_transaction(conn, "1", [_event(1), _event(2)], 100) is False
    async with fresh_db.transaction() as conn:
        assert await inbox.accept_transaction(conn, "1", [_event(1), _event(2)], 101) is True
        # a new txn id carrying an event seen before stores only the new one
        assert await inbox.accept_transaction(conn, "2", [_event(2), _event(3)], 102) is False
        # a reused txn id (homeserver reset) with new events: the events are still kept
        assert await inbox.accept_transaction(conn, "1", [_event(4)], 103) is True
        pending = await inbox.pending(conn, 10)
    assert [item.event_id for item in pending] == ["$e1", "$e2", "$e3", "$e4"]


async def test_an_event_is_marked_processed_once(fresh_db: Database) -> None:
    await fresh_db.migrate()
    async with fresh_db.transaction() as conn:
        await inbox.accept_transaction(conn, "1", [_event(1)], 100)
        (item,) = await inbox.pending(conn, 10)
        assert await inbox.mark_processed(conn, item.id, 200) is True
        assert await inbox.mark_processed(conn, item.id, 201) is False
        assert await inbox.pending(conn, 10) == []


async def test_prune_keeps_recent_and_unprocessed(fresh_db: Database) -> None:
    await fresh_db.migrate()
    async with fresh_db.transaction() as conn:
        await inbox.accept_transaction(conn, "old", [_event(1), _event(2)], 100)
        await inbox.accept_transaction(conn, "new", [_event(3)], 10_000)
        first = (await inbox.pending(conn, 10))[0]
        await inbox.mark_processed(conn, first.id, 150)
        assert await inbox.prune(conn, older_than=5_000) == 1
        assert await inbox.counts(conn) == {"stored": 2, "pending": 2, "failed": 0}
        # the pruned txn id is forgotten (bounded dedupe), the kept one not
        assert await inbox.accept_transaction(conn, "old", [], 10_001) is False
        assert await inbox.accept_transaction(conn, "new", [], 10_001) is True
