"""Users' invite permission settings (the TI-M permission account data), as our Synapse module
passed them on, so that they travel in the users' policy records to every Synapse process.

A client's change overwrites (`put`); what the module read from Synapse for a user without a row
fills the gap only if no change got there first (`put_if_absent`), so a late copy of an older
read never wins over a newer change.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.database import insert_ignoring_duplicates
from messenger.db.schema import invite_permissions
from messenger.db.stores import policy_changes


def _values(user: str, kind: str, content: Any, at: int) -> dict[str, Any]:
    return {
        "user_id": user,
        "type": kind,
        "content": None if content is None else json.dumps(content),
        "updated_at": at,
    }


async def put(conn: AsyncConnection, user: str, kind: str, content: Any, at: int) -> None:
    await conn.execute(
        invite_permissions.delete().where(
            invite_permissions.c.user_id == user, invite_permissions.c.type == kind
        )
    )
    await conn.execute(invite_permissions.insert().values(**_values(user, kind, content, at)))
    policy_changes.note(conn, user)


async def put_if_absent(conn: AsyncConnection, user: str, kind: str, content: Any, at: int) -> bool:
    result = await conn.execute(
        insert_ignoring_duplicates(conn, invite_permissions).values(
            **_values(user, kind, content, at)
        )
    )
    if result.rowcount:
        policy_changes.note(conn, user)
    return bool(result.rowcount)


async def of_user(conn: AsyncConnection, user: str) -> dict[str, Any]:
    """type -> content (None: the user has none) for every type known for the user."""
    rows = await conn.execute(
        sa.select(invite_permissions.c.type, invite_permissions.c.content).where(
            invite_permissions.c.user_id == user
        )
    )
    return {str(row.type): None if row.content is None else json.loads(row.content) for row in rows}
