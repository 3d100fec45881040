"""Kill the appservice while Synapse queues events: after restart every event is processed once."""

from __future__ import annotations

import asyncio

from messenger.db.stores import inbox, registry
from tests.system import System


async def test_events_queued_while_appservice_is_dead_are_processed_exactly_once(
    system: System, e2e_user
) -> None:
    patient = await e2e_user(system.add_account("patient", "Crash Patient"))
    practice = await e2e_user(system.add_listed_practice("Praxis Crash"))
    room = await patient.create_encrypted_room(invite=[practice.user_id])
    await practice.wait_for(lambda: room in practice.invites)
    await practice.join(room)
    await patient.wait_for(
        lambda: (
            practice.user_id not in patient.client.rooms[room].invited_users
            and practice.user_id in patient.client.rooms[room].users
        )
    )

    system.appservice.kill()  # SIGKILL: no clean shutdown
    try:
        for n in range(5):
            await patient.send_text(room, f"Nachricht {n}")
        for n in range(3):
            await practice.send_text(room, f"Antwort {n}")
        await practice.wait_for_message(room, "Nachricht 4")
    finally:
        await system.start_appservice()

    async def counted() -> bool:
        async with system.db.transaction() as conn:
            row = await registry.get_room(conn, room)
        return row is not None and row.message_count >= 8

    async def until() -> None:
        while not await counted():
            await asyncio.sleep(0.3)

    await asyncio.wait_for(until(), 60)
    await asyncio.sleep(2)  # any duplicate delivery would land now
    async with system.db.transaction() as conn:
        row = await registry.get_room(conn, room)
        members = {m.user_id: m for m in await registry.members(conn, room)}
        failures = await inbox.failures(conn)
    assert row is not None and row.message_count == 8
    assert members[patient.user_id].message_count == 5
    assert members[practice.user_id].message_count == 3
    assert not [f for f in failures if f[0] and not f[0].startswith(("$bad-", "$test-"))]


async def test_a_clean_stop_takes_what_synapse_queued_before_the_appservice_goes(
    system: System, e2e_user
) -> None:
    """Synapse holds the events queued behind a (paced) transaction in memory only: a stop of
    the appservice drains that queue first, so none waits for a restart."""
    patient = await e2e_user(system.add_account("patient", "Stop Patient"))
    practice = await e2e_user(system.add_listed_practice("Praxis Stop"))
    room = await patient.create_encrypted_room(invite=[practice.user_id])
    await practice.wait_for(lambda: room in practice.invites)
    await practice.join(room)
    await patient.wait_for(lambda: practice.user_id in patient.client.rooms[room].users)
    for n in range(12):
        await patient.send_text(room, f"kurz vor dem Halt {n}")
    await practice.wait_for_message(room, "kurz vor dem Halt 11")

    system.appservice.stop()  # SIGTERM, Synapse keeps running
    try:
        async with system.db.transaction() as conn:
            row = await registry.get_room(conn, room)
        assert row is not None and row.message_count == 12
    finally:
        await system.start_appservice()
