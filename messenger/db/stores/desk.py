"""The insurer desk: its rooms, the patients' insurer channels, tickets, their messages (content
sealed by the caller), assignments to agents and the desk's outbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.database import insert_ignoring_duplicates, retry_delay_ms
from messenger.db.schema import (
    accounts,
    desk_channels,
    desk_outbox,
    desk_rooms,
    desk_seen,
    ticket_assignments,
    ticket_messages,
    tickets,
)

DRAFT, OPEN, CLAIMED, WAITING, CLOSED = "draft", "open", "claimed", "waiting", "closed"
ACTIVE = (OPEN, CLAIMED, WAITING)  # in the desk's hands or the patient's (not draft, not closed)
UNANSWERED = (OPEN, CLAIMED)  # the clock runs


def _rows(cls: type[Any], rows: Any) -> list[Any]:
    fields = cls.__dataclass_fields__
    return [cls(**{key: row._mapping[key] for key in fields}) for row in rows]


# --- rooms ------------------------------------------------------------------------------------
async def desk_room(conn: AsyncConnection, name: str) -> str | None:
    row = (
        await conn.execute(sa.select(desk_rooms.c.room_id).where(desk_rooms.c.name == name))
    ).first()
    return str(row.room_id) if row else None


async def set_desk_room(conn: AsyncConnection, name: str, room_id: str, at: int) -> None:
    """The queue or supervisors' room, new or in place of one the homeserver no longer has."""
    await conn.execute(desk_rooms.delete().where(desk_rooms.c.name == name))
    await conn.execute(desk_rooms.insert().values(name=name, room_id=room_id, created_at=at))


async def staff(conn: AsyncConnection, roles: tuple[str, ...]) -> list[str]:
    rows = await conn.execute(
        sa.select(accounts.c.user_id).where(accounts.c.role.in_(roles)).order_by(accounts.c.user_id)
    )
    return [str(r.user_id) for r in rows]


# --- channels ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChannelRow:
    patient_id: str
    room_id: str
    greeted_at: int | None
    pending_topic: str | None
    menu_event_id: str | None
    hold: bool


async def add_channel(conn: AsyncConnection, patient: str, room_id: str, at: int) -> None:
    await conn.execute(
        desk_channels.insert().values(
            patient_id=patient, room_id=room_id, created_at=at, hold=False
        )
    )


async def channel_of_room(conn: AsyncConnection, room_id: str) -> ChannelRow | None:
    rows = await conn.execute(desk_channels.select().where(desk_channels.c.room_id == room_id))
    found = _rows(ChannelRow, rows)
    return found[0] if found else None


async def channel_of_patient(conn: AsyncConnection, patient: str) -> ChannelRow | None:
    rows = await conn.execute(desk_channels.select().where(desk_channels.c.patient_id == patient))
    found = _rows(ChannelRow, rows)
    return found[0] if found else None


async def ungreeted_channels(conn: AsyncConnection) -> list[ChannelRow]:
    query = desk_channels.select().where(desk_channels.c.greeted_at.is_(None))
    return _rows(ChannelRow, await conn.execute(query))


async def patients_without_channel(conn: AsyncConnection) -> list[str]:
    rows = await conn.execute(
        sa.select(accounts.c.user_id)
        .where(
            accounts.c.role == "patient",
            ~sa.exists().where(desk_channels.c.patient_id == accounts.c.user_id),
        )
        .order_by(accounts.c.created_at)
    )
    return [str(r.user_id) for r in rows]


async def patients_channels(conn: AsyncConnection) -> list[ChannelRow]:
    """The channels of the patients who have an account here (and are still insured)."""
    query = desk_channels.select().where(
        sa.exists().where(
            accounts.c.user_id == desk_channels.c.patient_id,
            accounts.c.role == "patient",
            accounts.c.ended_at.is_(None),
        )
    )
    return _rows(ChannelRow, await conn.execute(query))


async def has_tickets(conn: AsyncConnection, channel_room: str) -> bool:
    query = sa.select(tickets.c.id).where(tickets.c.channel_room_id == channel_room).limit(1)
    return (await conn.execute(query)).first() is not None


async def update_channel(
    conn: AsyncConnection, patient: str, *, only_room: str | None = None, **values: Any
) -> bool:
    """Change a patient's channel row; with `only_room`, only while it still names that room
    (compare and set). True when a row changed."""
    query = desk_channels.update().where(desk_channels.c.patient_id == patient)
    if only_room is not None:
        query = query.where(desk_channels.c.room_id == only_room)
    result = await conn.execute(query.values(**values))
    return bool(result.rowcount)


# --- tickets ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TicketRow:
    id: int
    patient_id: str
    channel_room_id: str
    topic: str | None
    status: str
    created_at: int
    opened_at: int | None
    agent_id: str | None
    clock_started_at: int | None
    due_at: int | None
    first_due_at: int | None
    next_reminder_at: int | None
    reminders_sent: int
    breached_at: int | None
    escalated_at: int | None
    first_response_at: int | None
    closed_at: int | None
    last_activity_at: int
    hold: bool
    queue_event_id: str | None


async def create_ticket(conn: AsyncConnection, **values: Any) -> int:
    result = await conn.execute(tickets.insert().values(reminders_sent=0, hold=False, **values))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def ticket(conn: AsyncConnection, ticket_id: int) -> TicketRow | None:
    found = _rows(TicketRow, await conn.execute(tickets.select().where(tickets.c.id == ticket_id)))
    return found[0] if found else None


async def latest_ticket(conn: AsyncConnection, patient: str) -> TicketRow | None:
    rows = await conn.execute(
        tickets.select()
        .where(tickets.c.patient_id == patient)
        .order_by(tickets.c.id.desc())
        .limit(1)
    )
    found = _rows(TicketRow, rows)
    return found[0] if found else None


async def update_ticket(
    conn: AsyncConnection, ticket_id: int, *, only_if: tuple[str, ...] | None = None,
    **values: Any,
) -> bool:  # fmt: skip
    """Change a ticket; with `only_if`, only while its status is one of those (compare and set:
    of two agents claiming at once, exactly one wins)."""
    query = tickets.update().where(tickets.c.id == ticket_id)
    if only_if is not None:
        query = query.where(tickets.c.status.in_(only_if))
    return bool((await conn.execute(query.values(**values))).rowcount)


async def forget_queue_posts(conn: AsyncConnection) -> None:
    """The queue room was replaced: no ticket has an entry in the new one yet."""
    await conn.execute(
        tickets.update().where(tickets.c.queue_event_id.is_not(None)).values(queue_event_id=None)
    )


async def ticket_of_queue_post(conn: AsyncConnection, event_id: str) -> int | None:
    query = sa.select(tickets.c.id).where(tickets.c.queue_event_id == event_id)
    row = (await conn.execute(query)).first()
    return int(row.id) if row else None


async def tickets_in(
    conn: AsyncConnection, statuses: tuple[str, ...], *, agent: str | None = None,
    limit: int = 50,
) -> list[TicketRow]:  # fmt: skip
    query = tickets.select().where(tickets.c.status.in_(statuses))
    if agent is not None:
        query = query.where(tickets.c.agent_id == agent)
    query = query.order_by(tickets.c.due_at.is_(None), tickets.c.due_at, tickets.c.id).limit(limit)
    return _rows(TicketRow, await conn.execute(query))


async def reminders_due(conn: AsyncConnection, now: int, limit: int) -> list[TicketRow]:
    query = tickets.select().where(
        tickets.c.status.in_(UNANSWERED), tickets.c.next_reminder_at <= now
    )
    return _rows(TicketRow, await conn.execute(query.order_by(tickets.c.id).limit(limit)))


async def breaches_due(conn: AsyncConnection, now: int, limit: int) -> list[TicketRow]:
    query = tickets.select().where(
        tickets.c.status.in_(UNANSWERED), tickets.c.due_at <= now, tickets.c.escalated_at.is_(None)
    )
    return _rows(TicketRow, await conn.execute(query.order_by(tickets.c.id).limit(limit)))


async def claims_timed_out(conn: AsyncConnection, claimed_before: int, limit: int) -> list[int]:
    """Claimed, unanswered tickets whose agent has had them since before the cutoff (since
    the claim, or since the clock started again, whichever is later) without writing to the
    patient."""
    since = sa.case(
        (tickets.c.clock_started_at > ticket_assignments.c.created_at, tickets.c.clock_started_at),
        else_=ticket_assignments.c.created_at,
    )
    answered = sa.exists().where(
        ticket_messages.c.ticket_id == tickets.c.id,
        ticket_messages.c.kind.in_(("reply", "closing")),
        ticket_messages.c.at >= since,
    )
    rows = await conn.execute(
        sa.select(tickets.c.id)
        .join(ticket_assignments, ticket_assignments.c.ticket_id == tickets.c.id)
        .where(
            tickets.c.status == CLAIMED,
            ticket_assignments.c.ended_at.is_(None),
            since < claimed_before,
            ~answered,
        )
        .order_by(tickets.c.id)
        .limit(limit)
    )
    return [int(r.id) for r in rows]


async def tickets_for_stats(conn: AsyncConnection, since: int) -> list[TicketRow]:
    """Tickets opened since `since`, and every ticket still open whenever it was opened (two
    indexed queries: opened_at, status)."""
    recent = await conn.execute(tickets.select().where(tickets.c.opened_at >= since))
    older_open = await conn.execute(
        tickets.select().where(tickets.c.status.in_(ACTIVE), tickets.c.opened_at < since)
    )
    return _rows(TicketRow, recent) + _rows(TicketRow, older_open)


# --- messages ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class MessageRow:
    id: int
    ticket_id: int
    event_id: str
    origin_room_id: str
    author: str
    kind: str  # patient | reply | note | closing
    content: str  # sealed
    mxc: str | None
    at: int


async def first_sight(conn: AsyncConnection, event_id: str, at: int) -> bool:
    """Record an event as handled; False if it was handled before (a replay)."""
    result = await conn.execute(
        insert_ignoring_duplicates(conn, desk_seen).values(event_id=event_id, at=at)
    )
    return bool(result.rowcount)


async def prune_seen(conn: AsyncConnection, before: int) -> None:
    await conn.execute(desk_seen.delete().where(desk_seen.c.at < before))


async def message_known(conn: AsyncConnection, event_id: str) -> bool:
    query = sa.select(ticket_messages.c.id).where(ticket_messages.c.event_id == event_id)
    return (await conn.execute(query)).first() is not None


async def add_message(conn: AsyncConnection, **values: Any) -> int:
    key = (await conn.execute(ticket_messages.insert().values(**values))).inserted_primary_key
    assert key is not None
    return int(key[0])


async def first_message(conn: AsyncConnection, ticket_id: int) -> MessageRow | None:
    rows = await conn.execute(
        ticket_messages.select()
        .where(ticket_messages.c.ticket_id == ticket_id)
        .order_by(ticket_messages.c.id)
        .limit(1)
    )
    found = _rows(MessageRow, rows)
    return found[0] if found else None


async def messages(conn: AsyncConnection, ticket_id: int, after: int = 0) -> list[MessageRow]:
    rows = await conn.execute(
        ticket_messages.select()
        .where(ticket_messages.c.ticket_id == ticket_id, ticket_messages.c.id > after)
        .order_by(ticket_messages.c.id)
    )
    return _rows(MessageRow, rows)


# --- assignments ------------------------------------------------------------------------------
@dataclass(frozen=True)
class AssignmentRow:
    id: int
    ticket_id: int
    agent_id: str
    room_id: str | None
    created_at: int
    joined_at: int | None
    mirrored_upto: int
    ended_at: int | None


async def add_assignment(conn: AsyncConnection, ticket_id: int, agent: str, at: int) -> int:
    result = await conn.execute(
        ticket_assignments.insert().values(
            ticket_id=ticket_id, agent_id=agent, created_at=at, mirrored_upto=0
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def active_assignment(conn: AsyncConnection, ticket_id: int) -> AssignmentRow | None:
    rows = await conn.execute(
        ticket_assignments.select().where(
            ticket_assignments.c.ticket_id == ticket_id, ticket_assignments.c.ended_at.is_(None)
        )
    )
    found = _rows(AssignmentRow, rows)
    return found[0] if found else None


async def assignment(conn: AsyncConnection, assignment_id: int) -> AssignmentRow | None:
    rows = await conn.execute(
        ticket_assignments.select().where(ticket_assignments.c.id == assignment_id)
    )
    found = _rows(AssignmentRow, rows)
    return found[0] if found else None


async def assignment_of_room(conn: AsyncConnection, room_id: str) -> AssignmentRow | None:
    rows = await conn.execute(
        ticket_assignments.select().where(ticket_assignments.c.room_id == room_id)
    )
    found = _rows(AssignmentRow, rows)
    return found[0] if found else None


async def assignments_without_room(conn: AsyncConnection) -> list[AssignmentRow]:
    rows = await conn.execute(
        ticket_assignments.select().where(
            ticket_assignments.c.room_id.is_(None), ticket_assignments.c.ended_at.is_(None)
        )
    )
    return _rows(AssignmentRow, rows)


async def update_assignment(conn: AsyncConnection, assignment_id: int, **values: Any) -> None:
    await conn.execute(
        ticket_assignments.update().where(ticket_assignments.c.id == assignment_id).values(**values)
    )


# --- outbox -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class OutboxRow:
    id: int
    room_id: str
    content: str  # sealed
    ticket_id: int | None
    purpose: str
    attempts: int


async def enqueue(
    conn: AsyncConnection, room_id: str, content: str, purpose: str, ticket_id: int | None,
    at: int,
) -> int:  # fmt: skip
    result = await conn.execute(
        desk_outbox.insert().values(
            room_id=room_id, content=content, purpose=purpose, ticket_id=ticket_id, created_at=at,
            attempts=0, next_attempt_at=0,
        )
    )  # fmt: skip
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def unsent(conn: AsyncConnection, now: int, limit: int = 200) -> list[OutboxRow]:
    """Rows to send now, oldest first; a row waits while an older row of its room waits for
    its next try, so every room receives its messages in order (the sender stops at a room's
    first failure within a batch)."""
    earlier = desk_outbox.alias("earlier")
    blocked = sa.exists().where(
        earlier.c.room_id == desk_outbox.c.room_id,
        earlier.c.sent_at.is_(None),
        earlier.c.next_attempt_at > now,
        earlier.c.id < desk_outbox.c.id,
    )
    rows = await conn.execute(
        desk_outbox.select()
        .where(desk_outbox.c.sent_at.is_(None), desk_outbox.c.next_attempt_at <= now, ~blocked)
        .order_by(desk_outbox.c.id)
        .limit(limit)
    )
    return _rows(OutboxRow, rows)


async def mark_sent(conn: AsyncConnection, row_id: int, event_id: str, at: int) -> None:
    """Sent: the content is dropped (the message lives in the room now)."""
    await conn.execute(
        desk_outbox.update()
        .where(desk_outbox.c.id == row_id)
        .values(sent_at=at, event_id=event_id, content="")
    )


async def postpone(conn: AsyncConnection, row_id: int, attempts: int, now: int) -> int:
    delay = retry_delay_ms(attempts)
    await conn.execute(
        desk_outbox.update()
        .where(desk_outbox.c.id == row_id)
        .values(attempts=attempts + 1, next_attempt_at=now + delay)
    )
    return delay


async def drop_unsent(conn: AsyncConnection, room_id: str) -> None:
    await conn.execute(
        desk_outbox.delete().where(
            desk_outbox.c.room_id == room_id, desk_outbox.c.sent_at.is_(None)
        )
    )


async def prune_outbox(conn: AsyncConnection, before: int) -> None:
    await conn.execute(
        desk_outbox.delete().where(
            desk_outbox.c.sent_at.is_not(None), desk_outbox.c.sent_at < before
        )
    )


async def held_tickets(
    conn: AsyncConnection, patient: str, besides: int | None = None
) -> list[int]:
    query = sa.select(tickets.c.id).where(tickets.c.patient_id == patient, tickets.c.hold.is_(True))
    if besides is not None:
        query = query.where(tickets.c.id != besides)
    return [int(r.id) for r in await conn.execute(query)]


# --- purge ------------------------------------------------------------------------------------
def _held() -> sa.ColumnElement[bool]:
    """The ticket, or its patient's channel, is under a legal hold."""
    channel_held = sa.exists().where(
        desk_channels.c.patient_id == tickets.c.patient_id, desk_channels.c.hold.is_(True)
    )
    return sa.or_(tickets.c.hold.is_(True), channel_held)


async def purge_cutoffs(conn: AsyncConnection, rooms: list[str], cutoff: int) -> dict[str, int]:
    """Per insurer channel (of these rooms) not on hold: the instant up to which its history
    may go — the cutoff, or earlier where a held ticket's messages lie before it."""
    held_start = (
        sa.select(
            tickets.c.channel_room_id.label("room_id"),
            sa.func.min(ticket_messages.c.at).label("first_at"),
        )
        .join(ticket_messages, ticket_messages.c.ticket_id == tickets.c.id)
        .where(tickets.c.hold.is_(True), tickets.c.channel_room_id.in_(rooms))
        .group_by(tickets.c.channel_room_id)
    )
    held = {str(r.room_id): int(r.first_at) for r in await conn.execute(held_start)}
    rows = await conn.execute(
        sa.select(desk_channels.c.room_id).where(
            desk_channels.c.hold.is_(False), desk_channels.c.room_id.in_(rooms)
        )
    )
    return {str(r.room_id): min(cutoff, held.get(str(r.room_id), cutoff)) for r in rows}


async def old_messages(conn: AsyncConnection, cutoff: int, limit: int) -> list[MessageRow]:
    """Messages older than the cutoff of tickets not on hold."""
    rows = await conn.execute(
        sa.select(*ticket_messages.c)
        .join(tickets, tickets.c.id == ticket_messages.c.ticket_id)
        .where(ticket_messages.c.at < cutoff, ~_held())
        .order_by(ticket_messages.c.id)
        .limit(limit)
    )
    return _rows(MessageRow, rows)


async def delete_messages(conn: AsyncConnection, ids: list[int]) -> None:
    await conn.execute(ticket_messages.delete().where(ticket_messages.c.id.in_(ids)))


async def old_tickets(conn: AsyncConnection, cutoff: int, limit: int) -> list[int]:
    """Tickets, in any state, untouched since before the cutoff, not on hold and without
    messages left: their records go."""
    left = sa.exists().where(ticket_messages.c.ticket_id == tickets.c.id)
    rows = await conn.execute(
        sa.select(tickets.c.id)
        .where(tickets.c.last_activity_at < cutoff, ~left, ~_held())
        .order_by(tickets.c.id)
        .limit(limit)
    )
    return [int(r.id) for r in rows]


async def channels_of_tickets(conn: AsyncConnection, ticket_ids: list[int]) -> list[str]:
    rows = await conn.execute(
        sa.select(tickets.c.channel_room_id).distinct().where(tickets.c.id.in_(ticket_ids))
    )
    return sorted(str(r.channel_room_id) for r in rows)


async def held_channel_rooms(conn: AsyncConnection) -> list[str]:
    """Channels on hold, or holding a ticket on hold."""
    held_ticket = sa.exists().where(
        tickets.c.patient_id == desk_channels.c.patient_id, tickets.c.hold.is_(True)
    )
    rows = await conn.execute(
        sa.select(desk_channels.c.room_id).where(
            sa.or_(desk_channels.c.hold.is_(True), held_ticket)
        )
    )
    return [str(r.room_id) for r in rows]


async def rooms_of_tickets(conn: AsyncConnection, ticket_ids: list[int]) -> list[str]:
    rows = await conn.execute(
        sa.select(ticket_assignments.c.room_id).where(
            ticket_assignments.c.ticket_id.in_(ticket_ids),
            ticket_assignments.c.room_id.is_not(None),
        )
    )
    return [str(r.room_id) for r in rows]


async def delete_tickets(conn: AsyncConnection, ticket_ids: list[int]) -> None:
    pairs = (
        (ticket_messages, ticket_messages.c.ticket_id),
        (ticket_assignments, ticket_assignments.c.ticket_id),
        (desk_outbox, desk_outbox.c.ticket_id),
        (tickets, tickets.c.id),
    )
    for table, column in pairs:
        await conn.execute(table.delete().where(column.in_(ticket_ids)))
