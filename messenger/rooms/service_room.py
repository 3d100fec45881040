"""Creating a patient's encrypted service room with the service bot."""

from __future__ import annotations

from messenger.bridge.homeserver_client import HomeserverClient
from messenger.ids import RoomID, UserID
from messenger.namespace import ROOM_KIND_KEY
from messenger.rooms.kinds import RoomKind

MEGOLM = "m.megolm.v1.aes-sha2"


async def create_service_room(
    hs: HomeserverClient, bot: UserID, patient: UserID, name: str
) -> RoomID:
    return await hs.create_room(
        {
            "preset": "private_chat",
            "is_direct": True,
            "invite": [patient],
            "name": name,
            "room_version": "10",
            "creation_content": {ROOM_KIND_KEY: RoomKind.SERVICE.value},
            "initial_state": [
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": MEGOLM}},
                {
                    "type": "m.room.history_visibility",
                    "state_key": "",
                    "content": {"history_visibility": "invited"},
                },
            ],
            "power_level_content_override": {"users": {bot: 100, patient: 0}},
        },
        as_user=bot,
    )
