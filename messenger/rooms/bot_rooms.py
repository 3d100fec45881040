"""The shape of every room our bots create: encrypted (Megolm), invite-only, room version 10,
history visible from the invitation on, its kind in the creation content."""

from __future__ import annotations

from typing import Any

from messenger.ids import UserID
from messenger.namespace import ROOM_KIND_KEY
from messenger.rooms.kinds import RoomKind

MEGOLM = "m.megolm.v1.aes-sha2"


def state(event_type: str, content: dict[str, Any]) -> dict[str, Any]:
    return {"type": event_type, "state_key": "", "content": content}


def bot_room_body(
    bot: UserID, kind: RoomKind, name: str, invite: list[UserID], power_levels: dict[str, Any],
    extra_state: list[dict[str, Any]] | None = None, direct: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """A createRoom body for `bot` (which gets the power levels given)."""
    return {
        "preset": "private_chat",
        "is_direct": direct,
        "invite": invite,
        "name": name,
        "room_version": "10",
        "creation_content": {ROOM_KIND_KEY: kind.value},
        "initial_state": [
            state("m.room.encryption", {"algorithm": MEGOLM}),
            state("m.room.history_visibility", {"history_visibility": "invited"}),
            *(extra_state or []),
        ],
        "power_level_content_override": power_levels,
    }
