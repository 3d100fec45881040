"""The exporter's own login (a short-lived device, logged out afterwards) and the user's chats."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from messenger.export.client_api import V3, ApiError, ClientApi, q
from messenger.export.errors import ExportError

DEVICE_NAME = "Chat-Export"


@dataclass(frozen=True)
class Chat:
    room_id: str
    name: str
    names: dict[str, str]  # user id → display name, every member the room has had
    encrypted: bool


async def login(api: ClientApi, user: str, password: str) -> str:
    """Log in with a password; the user id the server knows. Sets the api's token."""
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
            "password": password, "initial_device_display_name": DEVICE_NAME}  # fmt: skip
    try:
        answer = await api.json("POST", f"{V3}/login", body)
    except ApiError as error:
        if error.status in (401, 403):
            raise ExportError(f"login refused for {user}: wrong user name or password") from None
        raise
    api.token = str(answer["access_token"])
    return str(answer["user_id"])


async def whoami(api: ClientApi) -> str:
    try:
        return str((await api.json("GET", f"{V3}/account/whoami"))["user_id"])
    except ApiError as error:
        if error.status == 401:
            raise ExportError("access token refused (expired or logged out)") from None
        raise


async def logout(api: ClientApi) -> None:
    with contextlib.suppress(ExportError):  # a device left behind is the user's to remove
        await api.json("POST", f"{V3}/logout", {})


async def _state(api: ClientApi, room_id: str, kind: str) -> dict[str, Any] | None:
    try:
        return await api.json("GET", f"{V3}/rooms/{q(room_id)}/state/{q(kind)}/")
    except ApiError as error:
        if error.status == 404:
            return None
        raise


async def describe(api: ClientApi, user_id: str, room_id: str) -> Chat:
    try:
        members = await api.json("GET", f"{V3}/rooms/{q(room_id)}/members")
    except ApiError as error:
        if error.status in (403, 404):
            raise ExportError(f"--room: you are not in the chat {room_id}") from None
        raise
    names: dict[str, str] = {}
    for event in members.get("chunk") or []:
        name = (event.get("content") or {}).get("displayname")
        if name:
            names[str(event.get("state_key"))] = str(name)
    named = await _state(api, room_id, "m.room.name")
    title = str((named or {}).get("name") or "")
    if not title:
        others = sorted(name for user, name in names.items() if user != user_id)
        title = ", ".join(others) or room_id
    encrypted = await _state(api, room_id, "m.room.encryption") is not None
    return Chat(room_id, title, names, encrypted)


async def choose(api: ClientApi, user_id: str, wanted: list[str], every: bool) -> list[Chat]:
    """The chats to export: --all, or each --room given by id, alias or name."""
    joined = [str(room) for room in (await api.json("GET", f"{V3}/joined_rooms"))["joined_rooms"]]
    by_address = not every and all(ref[:1] in ("!", "#") for ref in wanted)
    chats = {} if by_address else {room: await describe(api, user_id, room) for room in joined}
    if every:
        if not chats:
            raise ExportError(
                "--all: you are in no chat yet (invitations not accepted are not chats)"
            )
        return list(chats.values())
    chosen: list[Chat] = []
    for ref in wanted:
        chat = await _find(api, user_id, ref, chats)
        if chat.room_id not in {c.room_id for c in chosen}:
            chosen.append(chat)
    return chosen


async def _find(api: ClientApi, user_id: str, ref: str, chats: dict[str, Chat]) -> Chat:
    if ref.startswith("#"):
        try:
            ref = str((await api.json("GET", f"{V3}/directory/room/{q(ref)}"))["room_id"])
        except ApiError:
            raise ExportError(f"--room: no chat has the address {ref}") from None
    if ref.startswith("!"):
        return chats.get(ref) or await describe(api, user_id, ref)  # also a chat left earlier
    matches = [chat for chat in chats.values() if chat.name.casefold() == ref.casefold()]
    if len(matches) == 1:
        return matches[0]
    listing = "; ".join(f"{chat.name} ({chat.room_id})" for chat in chats.values()) or "none"
    if matches:
        raise ExportError(f"--room: several chats are called {ref!r}; give the room id: {listing}")
    raise ExportError(f"--room: no chat called {ref!r}; your chats: {listing}")
