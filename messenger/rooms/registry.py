"""Handler: keeps the room registry from event envelopes (kinds, members, roles, activity)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.accounts.roles import role_of
from messenger.db.stores import registry as registry_store
from messenger.namespace import BotNamespace
from messenger.rooms.activity import fold_messages
from messenger.rooms.envelope import Envelope
from messenger.rooms.kinds import RoomKind, kind_from_creation


class RoomRegistry:
    def __init__(self, bots: BotNamespace) -> None:
        self._bots = bots

    async def apply(self, conn: AsyncConnection, events: list[Envelope]) -> None:
        """Apply events (in arrival order) in the caller's transaction, which also marks them
        processed. State changes go one by one; messages are folded into one update per room
        and per member."""
        await registry_store.ensure_rooms(
            conn, list(dict.fromkeys(e.room_id for e in events)), RoomKind.CHAT.value
        )
        for event in events:
            if event.is_state:
                await self._apply_state(conn, event)
        room_totals, member_totals = fold_messages(events)
        await registry_store.add_room_activity(
            conn, [(room, a.count, a.last_at) for (room,), a in room_totals.items()]
        )
        await registry_store.add_member_activity(
            conn,
            [(room, user, a.count, a.last_at) for (room, user), a in member_totals.items()],
        )

    async def _apply_state(self, conn: AsyncConnection, event: Envelope) -> None:
        at = event.origin_server_ts
        if event.type == "m.room.create":
            kind = kind_from_creation(event.content)
            await registry_store.record_creation(conn, event.room_id, kind.value, event.sender, at)
        elif event.type == "m.room.encryption":
            await registry_store.mark_encrypted(conn, event.room_id)
        elif event.type == "m.room.member" and event.state_key:
            membership = event.content.get("membership")
            if isinstance(membership, str):
                role = await role_of(conn, event.state_key, self._bots)
                await registry_store.record_membership(
                    conn, event.room_id, event.state_key, role, membership, at
                )
