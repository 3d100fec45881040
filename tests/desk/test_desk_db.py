"""Desk storage on SQLite and PostgreSQL: a claim is won by exactly one agent, the outbox keeps
each room's order, the purge selects exactly what is older than the cutoff and not on hold."""

from __future__ import annotations

import asyncio

from messenger.db.database import Database
from messenger.db.stores import desk as store

DAY = 86_400_000


async def _ticket(db: Database, patient: str, status: str = store.OPEN, **values: object) -> int:
    async with db.transaction() as conn:
        if await store.channel_of_patient(conn, patient) is None:
            await store.add_channel(conn, patient, f"!c-{patient[1:]}", 0)
        return await store.create_ticket(
            conn, patient_id=patient, channel_room_id=f"!c-{patient[1:]}", status=status,
            created_at=0, last_activity_at=0, **values,
        )  # fmt: skip


async def test_of_two_agents_claiming_at_once_exactly_one_wins(fresh_db: Database) -> None:
    await fresh_db.migrate()
    other = Database(fresh_db.url)  # a second connection pool, as a second process would have
    try:
        ticket = await _ticket(fresh_db, "@p1:x")

        async def claim(db: Database, agent: str) -> bool:
            async with db.transaction() as conn:
                return await store.update_ticket(
                    conn, ticket, only_if=(store.OPEN,), status=store.CLAIMED, agent_id=agent
                )

        won = await asyncio.gather(claim(fresh_db, "@anna:x"), claim(other, "@ben:x"))
        assert sorted(won) == [False, True]
        async with fresh_db.reading() as conn:
            row = await store.ticket(conn, ticket)
        assert row is not None and row.status == store.CLAIMED
        assert row.agent_id == ("@anna:x" if won[0] else "@ben:x")
    finally:
        await other.close()


async def test_outbox_keeps_each_rooms_order_when_a_send_fails(fresh_db: Database) -> None:
    await fresh_db.migrate()
    async with fresh_db.transaction() as conn:
        first = await store.enqueue(conn, "!a", "1", "message", None, 0)
        await store.enqueue(conn, "!a", "2", "message", None, 0)
        other_room = await store.enqueue(conn, "!b", "3", "message", None, 0)
    async with fresh_db.transaction() as conn:
        assert [r.id for r in await store.unsent(conn, 10)] == [first, first + 1, other_room]
        await store.postpone(conn, first, 0, 10)  # the first send to !a failed
        assert [r.id for r in await store.unsent(conn, 10)] == [other_room]
        await store.mark_sent(conn, other_room, "$e", 11)
        assert await store.unsent(conn, 10) == []
        assert [r.id for r in await store.unsent(conn, 10 + 5_000)] == [first, first + 1]


async def test_purge_selects_what_is_old_and_not_on_hold(fresh_db: Database) -> None:
    await fresh_db.migrate()
    cutoff = 100 * DAY
    free = await _ticket(fresh_db, "@free:x", store.CLOSED, closed_at=50 * DAY)
    open_one = await _ticket(fresh_db, "@free:x", store.WAITING)
    held_ticket = await _ticket(fresh_db, "@held:x", store.CLOSED, closed_at=50 * DAY)
    held_patient = await _ticket(fresh_db, "@patient-hold:x", store.CLOSED, closed_at=50 * DAY)
    async with fresh_db.transaction() as conn:
        for ticket, at in ((free, 10), (open_one, 20), (open_one, 200), (held_ticket, 30),
                           (held_patient, 40)):  # fmt: skip
            patient = (await store.ticket(conn, ticket)).patient_id  # type: ignore[union-attr]
            await store.add_message(
                conn, ticket_id=ticket, event_id=f"$e{ticket}-{at}",
                origin_room_id=f"!c-{patient[1:]}", author=patient, kind="patient",
                content="sealed", mxc=f"mxc://x/{ticket}-{at}", at=at * DAY,
            )  # fmt: skip
        await store.update_ticket(conn, held_ticket, hold=True)
        await store.update_channel(conn, "@patient-hold:x", hold=True)
    async with fresh_db.reading() as conn:
        old = await store.old_messages(conn, cutoff, 100)
        before = await store.old_tickets(conn, cutoff, 100)
        limits = await store.purge_cutoffs(
            conn, ["!c-free:x", "!c-held:x", "!c-patient-hold:x"], cutoff
        )
    assert sorted((m.ticket_id, m.at // DAY) for m in old) == [(free, 10), (open_one, 20)]
    assert before == []  # every ticket still has messages
    assert limits == {"!c-free:x": cutoff, "!c-held:x": 30 * DAY}  # the held channel is left out
    async with fresh_db.transaction() as conn:
        await store.delete_messages(conn, [m.id for m in old])
        closed = await store.old_tickets(conn, cutoff, 100)
        assert closed == [free]  # untouched since, nothing left; open_one keeps a newer message
        assert await store.held_channel_rooms(conn) == ["!c-held:x", "!c-patient-hold:x"]
        await store.delete_tickets(conn, closed)
        assert await store.ticket(conn, free) is None
        assert await store.ticket(conn, open_one) is not None


async def test_a_replayed_patient_event_is_seen_only_once(fresh_db: Database) -> None:
    await fresh_db.migrate()
    async with fresh_db.transaction() as conn:
        assert await store.first_sight(conn, "$neu", 10)
        assert not await store.first_sight(conn, "$neu", 20)  # the replay after a crash
    async with fresh_db.transaction() as conn:
        await store.prune_seen(conn, 11)
        assert await store.first_sight(conn, "$neu", 30)
