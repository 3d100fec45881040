"""Creating a patient's encrypted service room with the service bot."""

from __future__ import annotations

from messenger.bridge.homeserver_client import HomeserverClient
from messenger.ids import RoomID, UserID
from messenger.rooms.bot_rooms import bot_room_body
from messenger.rooms.kinds import RoomKind


async def create_service_room(
    hs: HomeserverClient, bot: UserID, patient: UserID, name: str
) -> RoomID:
    levels = {"users": {bot: 100, patient: 0}}
    body = bot_room_body(bot, RoomKind.SERVICE, name, [patient], levels, direct=True)
    return await hs.create_room(body, as_user=bot)
