"""Attachments our bots received (event id -> mxc URI), so that a deleted message's media can
be deleted too. Only identifiers, never content."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.database import insert_ignoring_duplicates
from messenger.db.schema import known_media


async def remember(conn: AsyncConnection, event_id: str, room_id: str, mxc: str, at: int) -> None:
    await conn.execute(
        insert_ignoring_duplicates(conn, known_media).values(
            event_id=event_id, room_id=room_id, mxc=mxc, at=at
        )
    )


async def of_event(conn: AsyncConnection, room_id: str, event_id: str) -> str | None:
    """The media a message in that room carried."""
    row = (
        await conn.execute(
            sa.select(known_media.c.mxc).where(
                known_media.c.event_id == event_id, known_media.c.room_id == room_id
            )
        )
    ).first()
    return str(row.mxc) if row else None


async def forget(conn: AsyncConnection, event_id: str) -> None:
    await conn.execute(known_media.delete().where(known_media.c.event_id == event_id))
