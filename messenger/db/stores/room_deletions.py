"""Room cleanup: which rooms are abandoned (every local member left) or never used (state
only, nobody but the creator ever joined), and the deletions we asked Synapse for."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.schema import room_deletions, room_members, rooms
from messenger.rooms.kinds import RoomKind

FINISHED = ("complete", "gone")
# rooms our bots make and keep: never deleted for being unused
BOT_ROOMS = (RoomKind.SERVICE.value, RoomKind.INSURER.value, RoomKind.AGENT.value)


@dataclass(frozen=True)
class DeletionRow:
    room_id: str
    reason: str
    delete_id: str | None
    status: str


def _not_deleted() -> sa.ColumnElement[bool]:
    return ~sa.exists().where(room_deletions.c.room_id == rooms.c.room_id)


async def left_by_all_locals(conn: AsyncConnection, server_name: str, limit: int) -> list[str]:
    """Rooms with local members none of whom is joined or invited any more."""
    local = room_members.c.user_id.like(f"%:{server_name}")
    present = sa.exists().where(
        room_members.c.room_id == rooms.c.room_id,
        local,
        room_members.c.membership.in_(("join", "invite", "knock")),
    )
    had_locals = sa.exists().where(room_members.c.room_id == rooms.c.room_id, local)
    rows = await conn.execute(
        sa.select(rooms.c.room_id)
        .where(rooms.c.kind != "service", had_locals, ~present, _not_deleted())
        .order_by(rooms.c.room_id)
        .limit(limit)
    )
    return [str(r.room_id) for r in rows]


async def state_only(conn: AsyncConnection, created_before: int, limit: int) -> list[str]:
    """Rooms without a single message, older than `created_before`, that nobody but their
    creator ever joined (the invite was never accepted). Never the rooms our bots keep: a
    service room, an insurer channel the patient has not opened yet, the desk's agent rooms
    (before the first agent joins)."""
    others_joined = sa.exists().where(
        room_members.c.room_id == rooms.c.room_id,
        room_members.c.joined_at.is_not(None),
        room_members.c.user_id != sa.func.coalesce(rooms.c.creator, ""),
    )
    rows = await conn.execute(
        sa.select(rooms.c.room_id)
        .where(
            rooms.c.kind.not_in(BOT_ROOMS),
            rooms.c.message_count == 0,
            rooms.c.created_at < created_before,
            ~others_joined,
            _not_deleted(),
        )
        .order_by(rooms.c.room_id)
        .limit(limit)
    )
    return [str(r.room_id) for r in rows]


async def start(conn: AsyncConnection, room_id: str, reason: str, at: int) -> None:
    await conn.execute(
        room_deletions.insert().values(
            room_id=room_id, reason=reason, requested_at=at, status="requested"
        )
    )


async def set_status(
    conn: AsyncConnection, room_id: str, status: str, delete_id: str | None = None,
    finished_at: int | None = None,
) -> None:  # fmt: skip
    values: dict[str, object] = {"status": status}
    if delete_id is not None:
        values["delete_id"] = delete_id
    if finished_at is not None:
        values["finished_at"] = finished_at
    await conn.execute(
        room_deletions.update().where(room_deletions.c.room_id == room_id).values(**values)
    )


async def unfinished(conn: AsyncConnection) -> list[DeletionRow]:
    rows = await conn.execute(
        sa.select(room_deletions).where(room_deletions.c.status.not_in(FINISHED))
    )
    return [DeletionRow(r.room_id, r.reason, r.delete_id, r.status) for r in rows]
