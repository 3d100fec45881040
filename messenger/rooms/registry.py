"""Handler: keeps the room registry from event envelopes (kinds, members, roles, activity)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.stores import accounts as accounts_store
from messenger.db.stores import registry as registry_store
from messenger.ids import localpart
from messenger.rooms.envelope import MESSAGE_TYPES, Envelope
from messenger.rooms.kinds import RoomKind, kind_from_creation

BOT_ROLE = "bot"


class RoomRegistry:
    def __init__(self, bot_prefix: str) -> None:
        self._bot_prefix = bot_prefix

    async def _role(self, conn: AsyncConnection, user: str) -> str | None:
        if localpart(user).startswith(self._bot_prefix):
            return BOT_ROLE
        account = await accounts_store.get(conn, user)
        return account.role.value if account else None

    async def apply(self, conn: AsyncConnection, event: Envelope) -> None:
        """Apply one event in the caller's transaction (which also marks it processed)."""
        at = event.origin_server_ts
        if event.type == "m.room.create" and event.is_state:
            kind = kind_from_creation(event.content)
            await registry_store.record_creation(conn, event.room_id, kind.value, event.sender, at)
            return
        await registry_store.ensure_room(conn, event.room_id, RoomKind.CHAT.value)
        if event.type == "m.room.encryption" and event.is_state:
            await registry_store.mark_encrypted(conn, event.room_id)
        elif event.type == "m.room.member" and event.state_key:
            membership = event.content.get("membership")
            if isinstance(membership, str):
                role = await self._role(conn, event.state_key)
                await registry_store.record_membership(
                    conn, event.room_id, event.state_key, role, membership, at
                )
        elif event.type in MESSAGE_TYPES and not event.is_state:
            await registry_store.record_message(conn, event.room_id, event.sender, at)
