"""People of the desk tests: patients in their insurer channel, agents and supervisors in the
staff rooms, and the ticket a patient's concern became."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from messenger.db.stores import desk as store
from tests.e2e_client import E2EUser, Received
from tests.system import System


async def patient(system: System, e2e_user: Any, name: str) -> E2EUser:
    account = system.add_account("patient", name)
    user: E2EUser = await e2e_user(account)
    channel = account["insurer_room_id"]
    await user.wait_for(lambda: channel in user.invites or channel in user.client.rooms)
    await user.join(channel)
    await user.wait_for_message(channel, "Willkommen beim Kundenservice")
    user.channel = channel  # type: ignore[attr-defined]
    return user


async def desk_room(system: System, name: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        async with system.db.reading() as conn:
            room = await store.desk_room(conn, name)
        if room is not None:
            return room
        assert time.monotonic() < deadline, f"no {name} room"
        await asyncio.sleep(0.3)


async def staff(system: System, e2e_user: Any, name: str, role: str = "agent") -> E2EUser:
    account = system.add_account(role, name)
    user: E2EUser = await e2e_user(account)
    queue = await desk_room(system, "queue")
    await user.wait_for(lambda: queue in user.invites)
    await user.join(queue)
    user.queue = queue  # type: ignore[attr-defined]
    if role == "supervisor":
        supervisors = await desk_room(system, "supervisors")
        await user.wait_for(lambda: supervisors in user.invites)
        await user.join(supervisors)
        user.supervisors = supervisors  # type: ignore[attr-defined]
    return user


async def next_message(user: E2EUser, room: str, contains: str, timeout: float = 60) -> Received:
    """The first message containing `contains` that arrives from now on."""
    seen = len(user.messages)
    found: Received = await user.wait_for(
        lambda: next(
            (m for m in user.messages[seen:] if m.room_id == room and contains in m.body), None
        ),
        timeout,
    )
    return found


async def concern(user: E2EUser, topic: str, body: str, *, further: bool = False) -> int:
    """Pick a topic (after "neu" for a further concern), write; returns the ticket number from
    the confirmation."""
    channel = user.channel  # type: ignore[attr-defined]
    if further:
        menu = asyncio.ensure_future(next_message(user, channel, "Bitte wählen Sie ein Thema"))
        await user.send_text(channel, "neu")
        await menu
    chosen = asyncio.ensure_future(next_message(user, channel, "Schreiben Sie jetzt"))
    await user.send_text(channel, topic)
    await chosen
    confirmed = asyncio.ensure_future(next_message(user, channel, "ist bei uns eingegangen"))
    await user.send_text(channel, body)
    confirmation = await confirmed
    found = re.search(r"#(\d+)", confirmation.body)
    assert found, confirmation.body
    return int(found.group(1))


async def ticket_room_of(agent: E2EUser, number: int) -> str:
    """Join the ticket room the bot invited the agent to (named "#<number> …")."""

    def invited() -> str | None:
        for room_id in agent.invites:
            room = agent.client.invited_rooms.get(room_id) or agent.client.rooms.get(room_id)
            if room is not None and (room.name or "").startswith(f"#{number} "):
                return room_id
        return None

    room: str = await agent.wait_for(invited)
    await agent.join(room)
    return room


async def ticket(system: System, number: int) -> store.TicketRow:
    async with system.db.reading() as conn:
        row = await store.ticket(conn, number)
    assert row is not None
    return row


async def wait_ticket(
    system: System, number: int, check: Any, timeout: float = 30
) -> store.TicketRow:
    deadline = time.monotonic() + timeout
    while True:
        row = await ticket(system, number)
        if check(row):
            return row
        assert time.monotonic() < deadline, row
        await asyncio.sleep(0.3)


async def media_in(user: E2EUser, room: str, name: str, timeout: float = 60) -> dict[str, Any]:
    found: tuple[str, str, dict[str, Any]] = await user.wait_for(
        lambda: next((m for m in user.media if m[0] == room and m[2].get("body") == name), None),
        timeout,
    )
    return found[2]
