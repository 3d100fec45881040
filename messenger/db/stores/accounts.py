"""Accounts: role, display name, hashed KVNR, language and service room of each person."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.schema import accounts
from messenger.ids import Role, RoomID, UserID


@dataclass(frozen=True)
class AccountRow:
    user_id: UserID
    role: Role
    display_name: str
    has_kvnr: bool
    language: str | None
    service_room_id: RoomID | None
    greeted_at: int | None
    created_at: int


def _row(row: sa.Row[tuple[object, ...]]) -> AccountRow:
    m = row._mapping
    return AccountRow(
        user_id=UserID(m["user_id"]),
        role=Role(m["role"]),
        display_name=m["display_name"],
        has_kvnr=m["kvnr_digest"] is not None,
        language=m["language"],
        service_room_id=RoomID(m["service_room_id"]) if m["service_room_id"] else None,
        greeted_at=m["greeted_at"],
        created_at=m["created_at"],
    )


async def insert(
    conn: AsyncConnection,
    *,
    user_id: UserID,
    role: Role,
    display_name: str,
    kvnr_digest: str | None,
    created_at: int,
) -> None:
    await conn.execute(
        accounts.insert().values(
            user_id=user_id,
            role=role.value,
            display_name=display_name,
            kvnr_digest=kvnr_digest,
            created_at=created_at,
        )
    )


async def get(conn: AsyncConnection, user_id: str) -> AccountRow | None:
    row = (await conn.execute(accounts.select().where(accounts.c.user_id == user_id))).first()
    return _row(row) if row else None


async def get_by_kvnr_digest(conn: AsyncConnection, digest: str) -> AccountRow | None:
    row = (await conn.execute(accounts.select().where(accounts.c.kvnr_digest == digest))).first()
    return _row(row) if row else None


async def list_accounts(conn: AsyncConnection, role: Role | None = None) -> list[AccountRow]:
    query = accounts.select().order_by(accounts.c.created_at, accounts.c.user_id)
    if role is not None:
        query = query.where(accounts.c.role == role.value)
    return [_row(row) for row in await conn.execute(query)]


async def without_service_room(conn: AsyncConnection) -> list[AccountRow]:
    """Patients and practices (who talk to the service bot) still lacking their service room."""
    query = accounts.select().where(
        accounts.c.role.in_([Role.PATIENT.value, Role.PRACTICE.value]),
        accounts.c.service_room_id.is_(None),
    )
    return [_row(row) for row in await conn.execute(query)]


async def set_service_room(conn: AsyncConnection, user_id: UserID, room_id: RoomID) -> None:
    await conn.execute(
        accounts.update().where(accounts.c.user_id == user_id).values(service_room_id=room_id)
    )


async def owner_of_service_room(conn: AsyncConnection, room_id: str) -> AccountRow | None:
    row = (
        await conn.execute(accounts.select().where(accounts.c.service_room_id == room_id))
    ).first()
    return _row(row) if row else None


async def mark_greeted(conn: AsyncConnection, user_id: UserID, at: int) -> None:
    await conn.execute(
        accounts.update()
        .where(accounts.c.user_id == user_id, accounts.c.greeted_at.is_(None))
        .values(greeted_at=at)
    )


async def set_language(conn: AsyncConnection, user_id: UserID, language: str) -> None:
    await conn.execute(
        accounts.update().where(accounts.c.user_id == user_id).values(language=language)
    )


async def kvnr_digest_of(conn: AsyncConnection, user_id: str) -> str | None:
    row = await conn.execute(sa.select(accounts.c.kvnr_digest).where(accounts.c.user_id == user_id))
    value = row.scalar_one_or_none()
    return str(value) if value else None
