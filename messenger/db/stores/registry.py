"""The room registry: rooms by kind, members with role, join time, last activity and counts."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.database import insert_ignoring_duplicates
from messenger.db.schema import room_members, rooms
from messenger.db.stores import policy_changes


@dataclass(frozen=True)
class RoomRow:
    room_id: str
    kind: str
    creator: str | None
    encrypted: bool
    created_at: int | None
    last_event_at: int | None
    message_count: int


@dataclass(frozen=True)
class MemberRow:
    room_id: str
    user_id: str
    role: str | None
    membership: str
    joined_at: int | None
    last_active_at: int | None
    message_count: int


async def ensure_room(conn: AsyncConnection, room_id: str, kind: str) -> None:
    await ensure_rooms(conn, [room_id], kind)


async def record_creation(
    conn: AsyncConnection, room_id: str, kind: str, creator: str, at: int
) -> None:
    await ensure_room(conn, room_id, kind)
    await conn.execute(
        rooms.update()
        .where(rooms.c.room_id == room_id)
        .values(kind=kind, creator=creator, created_at=at)
    )


async def set_kind(conn: AsyncConnection, room_id: str, kind: str) -> None:
    await conn.execute(rooms.update().where(rooms.c.room_id == room_id).values(kind=kind))


async def mark_encrypted(conn: AsyncConnection, room_id: str) -> None:
    await conn.execute(rooms.update().where(rooms.c.room_id == room_id).values(encrypted=True))


async def record_membership(
    conn: AsyncConnection, room_id: str, user_id: str, role: str | None, membership: str, at: int
) -> None:
    await conn.execute(
        insert_ignoring_duplicates(conn, room_members).values(
            room_id=room_id, user_id=user_id, role=role, membership=membership, message_count=0
        )
    )
    values: dict[str, object] = {"membership": membership, "role": role}
    if membership == "join":
        values["joined_at"] = sa.func.coalesce(room_members.c.joined_at, at)
    await conn.execute(
        room_members.update()
        .where(room_members.c.room_id == room_id, room_members.c.user_id == user_id)
        .values(**values)
    )
    # whom the user shares a room with changed: for the user and everybody in the room
    await note_members(conn, room_id, also=user_id)


async def note_members(conn: AsyncConnection, room_id: str, also: str | None = None) -> None:
    rows = await conn.execute(
        sa.select(room_members.c.user_id).where(
            room_members.c.room_id == room_id, room_members.c.membership.in_(("join", "invite"))
        )
    )
    policy_changes.note(conn, [str(row.user_id) for row in rows] + ([also] if also else []))


def _greatest(conn: AsyncConnection, column: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
    pick = sa.func.max if conn.dialect.name == "sqlite" else sa.func.greatest
    return pick(sa.func.coalesce(column, 0), sa.bindparam("at"))


async def ensure_rooms(conn: AsyncConnection, room_ids: list[str], kind: str) -> None:
    if room_ids:
        await conn.execute(
            insert_ignoring_duplicates(conn, rooms),
            [
                {"room_id": room, "kind": kind, "encrypted": False, "message_count": 0}
                for room in room_ids
            ],
        )


async def add_room_activity(conn: AsyncConnection, activity: list[tuple[str, int, int]]) -> None:
    """(room, new messages, newest ts) for many rooms in one statement."""
    if not activity:
        return
    await conn.execute(
        rooms.update()
        .where(rooms.c.room_id == sa.bindparam("rid"))
        .values(
            message_count=rooms.c.message_count + sa.bindparam("n"),
            last_event_at=_greatest(conn, rooms.c.last_event_at),
        ),
        [{"rid": room, "n": count, "at": at} for room, count, at in activity],
    )


async def add_member_activity(
    conn: AsyncConnection, activity: list[tuple[str, str, int, int]]
) -> None:
    """(room, sender, new messages, newest ts) for many members in one statement."""
    if not activity:
        return
    await conn.execute(
        room_members.update()
        .where(
            room_members.c.room_id == sa.bindparam("rid"),
            room_members.c.user_id == sa.bindparam("uid"),
        )
        .values(
            message_count=room_members.c.message_count + sa.bindparam("n"),
            last_active_at=_greatest(conn, room_members.c.last_active_at),
        ),
        [{"rid": room, "uid": user, "n": count, "at": at} for room, user, count, at in activity],
    )


async def get_room(conn: AsyncConnection, room_id: str) -> RoomRow | None:
    row = (await conn.execute(rooms.select().where(rooms.c.room_id == room_id))).first()
    return RoomRow(**row._mapping) if row else None


async def members(conn: AsyncConnection, room_id: str) -> list[MemberRow]:
    rows = await conn.execute(
        room_members.select()
        .where(room_members.c.room_id == room_id)
        .order_by(room_members.c.user_id)
    )
    return [MemberRow(**row._mapping) for row in rows]


async def drop_room(conn: AsyncConnection, room_id: str) -> None:
    """The room is gone from the server (deleted with purge): its rows go too."""
    await note_members(conn, room_id)
    await conn.execute(room_members.delete().where(room_members.c.room_id == room_id))
    await conn.execute(rooms.delete().where(rooms.c.room_id == room_id))
