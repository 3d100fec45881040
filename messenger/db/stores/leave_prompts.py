"""Leave prompts: each patient's threshold (mirrored from their account data) and the chats
they were offered to leave, with their answer. Only room ids, numbers and timestamps.

Selection: care chats the patient is joined to whose newest message (or, without any, the
creation) is older than the patient's cutoff, and which were not prompted or answered within
one threshold period. One statement per threshold value in use (at most 61).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.database import insert_ignoring_duplicates
from messenger.db.schema import leave_prompts, leave_settings, room_members, rooms

KEPT = "kept"
LEFT = "left"


@dataclass(frozen=True)
class DueChat:
    patient_id: str
    room_id: str
    last_message_at: int | None


@dataclass(frozen=True)
class PromptRow:
    patient_id: str
    room_id: str
    number: int
    prompted_at: int
    answer: str | None


# --- thresholds -------------------------------------------------------------------------------
async def threshold(conn: AsyncConnection, user: str) -> tuple[bool, int | None]:
    """(has a setting, months or None for off)."""
    row = (
        await conn.execute(
            sa.select(leave_settings.c.months).where(leave_settings.c.user_id == user)
        )
    ).first()
    return (False, None) if row is None else (True, row.months)


async def set_threshold(conn: AsyncConnection, user: str, months: int | None, at: int) -> None:
    await conn.execute(
        insert_ignoring_duplicates(conn, leave_settings).values(
            user_id=user, months=months, updated_at=at
        )
    )
    await conn.execute(
        leave_settings.update()
        .where(leave_settings.c.user_id == user)
        .values(months=months, updated_at=at)
    )


async def thresholds_in_use(conn: AsyncConnection) -> list[int]:
    rows = await conn.execute(
        sa.select(leave_settings.c.months).where(leave_settings.c.months.is_not(None)).distinct()
    )
    return sorted(int(r.months) for r in rows)


# --- selection ------------------------------------------------------------------------------
async def due_chats(
    conn: AsyncConnection, months: int, cutoff: int, is_default: bool, limit: int | None = None
) -> list[DueChat]:
    """Care chats past `cutoff` of the patients whose threshold is `months` (and, when
    `is_default`, of those without a setting)."""
    mine = room_members.alias("mine")
    last = sa.func.coalesce(rooms.c.last_event_at, rooms.c.created_at)
    threshold_is = leave_settings.c.months == months
    if is_default:
        threshold_is = sa.or_(threshold_is, leave_settings.c.user_id.is_(None))
    query = (
        sa.select(mine.c.user_id, rooms.c.room_id, rooms.c.last_event_at)
        .select_from(rooms)
        .join(mine, mine.c.room_id == rooms.c.room_id)
        .outerjoin(leave_settings, leave_settings.c.user_id == mine.c.user_id)
        .outerjoin(
            leave_prompts,
            sa.and_(
                leave_prompts.c.patient_id == mine.c.user_id,
                leave_prompts.c.room_id == rooms.c.room_id,
            ),
        )
        .where(
            rooms.c.kind == "care",
            sa.or_(
                rooms.c.last_event_at < cutoff,
                sa.and_(rooms.c.last_event_at.is_(None), rooms.c.created_at < cutoff),
            ),
            mine.c.role == "patient",
            mine.c.membership == "join",
            threshold_is,
            sa.or_(
                leave_prompts.c.room_id.is_(None),
                sa.func.coalesce(leave_prompts.c.answered_at, leave_prompts.c.prompted_at) < cutoff,
            ),
        )
        .order_by(mine.c.user_id, last)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = await conn.execute(query)
    return [DueChat(r.user_id, r.room_id, r.last_event_at) for r in rows]


async def practices_of(conn: AsyncConnection, room_ids: list[str]) -> dict[str, str]:
    """The practice member of each care chat."""
    if not room_ids:
        return {}
    rows = await conn.execute(
        sa.select(room_members.c.room_id, room_members.c.user_id).where(
            room_members.c.room_id.in_(room_ids), room_members.c.role == "practice"
        )
    )
    return {r.room_id: r.user_id for r in rows}


# --- prompts --------------------------------------------------------------------------------
def _prompt(r: sa.Row[tuple[object, ...]]) -> PromptRow:
    m = r._mapping
    return PromptRow(m["patient_id"], m["room_id"], m["number"], m["prompted_at"], m["answer"])


async def prompts_of(conn: AsyncConnection, patient: str) -> dict[str, PromptRow]:
    rows = await conn.execute(leave_prompts.select().where(leave_prompts.c.patient_id == patient))
    return {str(r.room_id): _prompt(r) for r in rows}


async def open_prompts(conn: AsyncConnection, patient: str) -> list[PromptRow]:
    rows = await conn.execute(
        leave_prompts.select()
        .where(leave_prompts.c.patient_id == patient, leave_prompts.c.answer.is_(None))
        .order_by(leave_prompts.c.number)
    )
    return [_prompt(r) for r in rows]


async def record_prompt(
    conn: AsyncConnection, patient: str, room: str, number: int, at: int, *, existing: bool
) -> None:
    values = {"number": number, "prompted_at": at, "answer": None, "answered_at": None}
    if existing:
        await conn.execute(
            leave_prompts.update()
            .where(leave_prompts.c.patient_id == patient, leave_prompts.c.room_id == room)
            .values(**values)
        )
    else:
        await conn.execute(
            leave_prompts.insert().values(patient_id=patient, room_id=room, **values)
        )


async def answer(conn: AsyncConnection, patient: str, room: str, answer: str, at: int) -> None:
    await conn.execute(
        leave_prompts.update()
        .where(leave_prompts.c.patient_id == patient, leave_prompts.c.room_id == room)
        .values(answer=answer, answered_at=at)
    )
