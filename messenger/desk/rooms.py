"""The desk's rooms, all encrypted and created by the desk bot: each patient's insurer channel
(with the 5-year `m.room.retention` policy), the queue and the supervisors' room, and one
ticket room per assignment of a ticket to an agent. Only the bot invites (power level 100)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from messenger.bridge.errors import HomeserverUnreachable, MatrixError
from messenger.bridge.homeserver_client import HomeserverClient, q
from messenger.ids import RoomID, UserID
from messenger.rooms.bot_rooms import bot_room_body, state
from messenger.rooms.kinds import RoomKind

log = logging.getLogger(__name__)
RETENTION = "m.room.retention"
# only the bot invites, removes and changes the room
STAFF_LEVELS = {"users_default": 0, "invite": 100, "kick": 100, "state_default": 100}


def _body(
    bot: UserID, kind: RoomKind, name: str, invite: list[UserID],
    extra_state: list[dict[str, Any]], direct: bool = False,
) -> dict[str, Any]:  # fmt: skip
    return bot_room_body(
        bot, kind, name, invite, {"users": {bot: 100}, **STAFF_LEVELS}, extra_state, direct
    )


def retention_content(max_lifetime_ms: int | None) -> dict[str, Any]:
    """The channel's policy: clients and Synapse hide messages older than this; none on hold."""
    return {} if max_lifetime_ms is None else {"max_lifetime": max_lifetime_ms}


async def create_channel(
    hs: HomeserverClient, bot: UserID, patient: UserID, name: str, max_lifetime_ms: int | None
) -> RoomID:
    retention = state(RETENTION, retention_content(max_lifetime_ms))
    body = _body(bot, RoomKind.INSURER, name, [patient], [retention], direct=True)
    return await hs.create_room(body, as_user=bot)


async def create_staff_room(
    hs: HomeserverClient, bot: UserID, name: str, invite: list[UserID]
) -> RoomID:
    """The queue or the supervisors' room. createRoom takes one invitee; the rest are invited
    one by one afterwards."""
    room = await hs.create_room(_body(bot, RoomKind.AGENT, name, invite[:1], []), as_user=bot)
    for user in invite[1:]:
        await invite_user(hs, bot, room, user)
    return room


async def joined_rooms(hs: HomeserverClient, bot: UserID) -> set[RoomID]:
    """The rooms the bot is in, as the homeserver has them."""
    answer = await hs.as_request("GET", "/_matrix/client/v3/joined_rooms", user_id=bot)
    listed = answer.get("joined_rooms")
    if not isinstance(listed, list):
        raise MatrixError(
            502, "M_BAD_JSON", "joined_rooms: the answer has no list of rooms", answer
        )
    return {RoomID(str(room)) for room in listed}


FEW_ROOMS = 20  # up to this many are asked about one by one; more: the bot's whole room list


@dataclass(frozen=True)
class RoomCheck:
    gone: set[RoomID]  # the homeserver no longer has them
    undecided: set[RoomID]  # it could not tell (asked again next time)


async def gone_rooms(
    hs: HomeserverClient, bot: UserID, admin_token: Callable[[], Awaitable[str]],
    rooms: list[RoomID],
) -> RoomCheck:  # fmt: skip
    """Which of the bot's rooms the homeserver no longer has (deleted and purged by an
    operator, or by the cleanup of never-used rooms before it spared bot rooms). A room the bot
    is not in but that still exists is not gone: it is logged, as nobody here can mend it by
    itself; a room the homeserver could not tell about is logged and `undecided`. A few rooms
    (the staff rooms, at every start) are asked about one by one (their members, admin API);
    for more, the bot's whole room list is fetched once (raises when it cannot be)."""
    listed = await joined_rooms(hs, bot) if len(rooms) > FEW_ROOMS else None
    check = RoomCheck(set(), set())
    for room in rooms:
        try:
            if listed is not None and room in listed:
                continue
            if listed is None and bot in await hs.joined_members(await admin_token(), room):
                continue
            details = await hs.room_details(await admin_token(), room)
        except (MatrixError, HomeserverUnreachable) as error:
            log.warning("desk: could not tell whether room %s still exists: %s", room, error)
            check.undecided.add(room)
            continue
        if details is None:
            check.gone.add(room)
        else:
            log.error("desk: the bot is no longer in its room %s, which still exists", room)
    return check


async def create_ticket_room(hs: HomeserverClient, bot: UserID, agent: UserID, name: str) -> RoomID:
    return await hs.create_room(_body(bot, RoomKind.AGENT, name, [agent], []), as_user=bot)


async def invite_user(hs: HomeserverClient, bot: UserID, room: RoomID, user: UserID) -> None:
    await hs.as_request(
        "POST", f"/_matrix/client/v3/rooms/{q(room)}/invite", body={"user_id": user}, user_id=bot
    )


async def remove_user(
    hs: HomeserverClient, bot: UserID, room: RoomID, user: UserID, reason: str
) -> None:
    body = {"user_id": user, "reason": reason}
    await hs.as_request("POST", f"/_matrix/client/v3/rooms/{q(room)}/kick", body=body, user_id=bot)


async def leave(hs: HomeserverClient, bot: UserID, room: RoomID) -> None:
    await hs.as_request("POST", f"/_matrix/client/v3/rooms/{q(room)}/leave", body={}, user_id=bot)


async def set_retention(
    hs: HomeserverClient, bot: UserID, room: RoomID, max_lifetime_ms: int | None
) -> None:
    await hs.as_request(
        "PUT", f"/_matrix/client/v3/rooms/{q(room)}/state/{RETENTION}/",
        body=retention_content(max_lifetime_ms), user_id=bot,
    )  # fmt: skip
