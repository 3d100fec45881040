"""Accounts: role, display name, hashed KVNR, language and service room of each person."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.schema import accounts, leave_prompts, leave_settings, notice_outbox
from messenger.db.stores import invite_permissions, policy_changes
from messenger.ids import Role, RoomID, UserID
from messenger.policy.permissions import PERMISSION_TYPES


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
    email: str | None = None
    ended_at: int | None = None


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
        email=m["email"],
        ended_at=m["ended_at"],
    )


async def insert(
    conn: AsyncConnection,
    *,
    user_id: UserID,
    role: Role,
    display_name: str,
    kvnr_digest: str | None,
    created_at: int,
    email: str | None = None,
    idp_subject: str | None = None,
) -> None:
    await conn.execute(
        accounts.insert().values(
            user_id=user_id,
            role=role.value,
            display_name=display_name,
            kvnr_digest=kvnr_digest,
            created_at=created_at,
            email=email,
            idp_subject=idp_subject,
        )
    )
    for kind in PERMISSION_TYPES:  # a new account has no invite permission settings yet
        await invite_permissions.put_if_absent(conn, user_id, kind, None, created_at)
    policy_changes.note(conn, user_id)


async def update_person(
    conn: AsyncConnection, user_id: str, name: str, email: str | None, idp_subject: str | None
) -> None:
    """Provisioning again: the name as given; e-mail and IdP subject where given."""
    values: dict[str, str] = {"display_name": name}
    values.update({k: v for k, v in (("email", email), ("idp_subject", idp_subject)) if v})
    await conn.execute(accounts.update().where(accounts.c.user_id == user_id).values(**values))


async def get_by_idp_subject(conn: AsyncConnection, subject: str) -> AccountRow | None:
    row = (await conn.execute(accounts.select().where(accounts.c.idp_subject == subject))).first()
    return _row(row) if row else None


async def reduce_to_ended(conn: AsyncConnection, user_id: str, at: int) -> None:
    """After a coverage end: the Matrix ID, role and end stay (the ID is never given again);
    name, e-mail, KVNR, IdP subject and settings go."""
    await conn.execute(
        accounts.update().where(accounts.c.user_id == user_id).values(
            display_name="", email=None, kvnr_digest=None, idp_subject=None, language=None,
            ended_at=at,
        )
    )  # fmt: skip
    policy_changes.note(conn, user_id)
    await conn.execute(leave_settings.delete().where(leave_settings.c.user_id == user_id))
    await conn.execute(leave_prompts.delete().where(leave_prompts.c.patient_id == user_id))
    await conn.execute(
        notice_outbox.delete().where(
            notice_outbox.c.user_id == user_id, notice_outbox.c.sent_at.is_(None)
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
