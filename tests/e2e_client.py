"""A real E2E Matrix client for tests: matrix-nio with vodozemac, its own store, a sync loop."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    JoinResponse,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    RoomCreateResponse,
    RoomEncryptedMedia,
    RoomMessageMedia,
    RoomMessageNotice,
    RoomMessageText,
    RoomSendResponse,
)


@dataclass
class Received:
    room_id: str
    sender: str
    body: str
    event_id: str
    msgtype: str


class E2EUser:
    def __init__(self, homeserver: str, user_id: str, password: str, store: Path) -> None:
        store.mkdir(parents=True, exist_ok=True)
        self.user_id = user_id
        self._password = password
        self.client = AsyncClient(
            homeserver,
            user_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
        )
        self.messages: list[Received] = []
        self.media: list[tuple[str, str, dict[str, Any]]] = []  # room, sender, content
        self.undecryptable: list[str] = []
        self.invites: list[str] = []
        self._arrived = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def login(self) -> None:
        response = await self.client.login(self._password, device_name="test device")
        assert isinstance(response, LoginResponse), response
        await self.start()

    async def start(self) -> None:
        """Sync on (after a login, or a restore_login of an earlier device)."""
        self.client.add_event_callback(self._on_message, (RoomMessageText, RoomMessageNotice))  # type: ignore[arg-type]
        self.client.add_event_callback(self._on_megolm, MegolmEvent)  # type: ignore[arg-type]
        self.client.add_event_callback(self._on_media, (RoomMessageMedia, RoomEncryptedMedia))  # type: ignore[arg-type]
        self.client.add_event_callback(self._on_invite, InviteMemberEvent)  # type: ignore[arg-type]
        await self.client.sync(timeout=0, full_state=True)
        await self._keys()
        self._task = asyncio.create_task(self._loop())

    async def _keys(self) -> None:
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        if self.client.should_query_keys:
            await self.client.keys_query()
        if self.client.should_claim_keys:
            await self.client.keys_claim(self.client.get_users_for_key_claiming())
        await self.client.send_to_device_messages()

    async def _loop(self) -> None:
        while True:
            await self.client.sync(timeout=1000)
            await self._keys()
            async with self._arrived:
                self._arrived.notify_all()

    async def _on_message(self, room: MatrixRoom, event: Any) -> None:
        self.messages.append(
            Received(
                room.room_id,
                event.sender,
                event.body,
                event.event_id,
                "m.notice" if isinstance(event, RoomMessageNotice) else "m.text",
            )
        )

    async def _on_media(self, room: MatrixRoom, event: Any) -> None:
        self.media.append((room.room_id, event.sender, dict(event.source["content"])))

    async def _on_megolm(self, room: MatrixRoom, event: MegolmEvent) -> None:
        self.undecryptable.append(event.event_id)

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == self.user_id and event.membership == "invite":
            self.invites.append(room.room_id)

    async def wait_for(self, condition: Any, timeout: float = 60) -> Any:
        async def check() -> Any:
            async with self._arrived:
                while True:
                    value = condition()
                    if value:
                        return value
                    await self._arrived.wait()

        return await asyncio.wait_for(check(), timeout)

    async def wait_for_message(
        self, room_id: str, contains: str = "", sender: str | None = None, timeout: float = 60
    ) -> Received:
        def find() -> Received | None:
            for message in self.messages:
                if (
                    message.room_id == room_id
                    and contains in message.body
                    and (sender is None or message.sender == sender)
                ):
                    return message
            return None

        result: Received = await self.wait_for(find, timeout)
        return result

    async def open_chat_with(self, other: E2EUser) -> str:
        """An encrypted chat with `other` (invited, joined, and seen joined by us)."""
        room = await self.create_encrypted_room(invite=[other.user_id])
        await other.wait_for(lambda: room in other.invites)
        await other.join(room)
        await self.wait_for(
            lambda: (
                other.user_id in self.client.rooms[room].users
                and other.user_id not in self.client.rooms[room].invited_users
            )
        )
        return room

    async def join(self, room_id: str) -> None:
        response = await self.client.join(room_id)
        assert isinstance(response, JoinResponse), response

    async def create_encrypted_room(self, invite: list[str]) -> str:
        response = await self.client.room_create(
            invite=invite,
            is_direct=True,
            initial_state=[
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            ],
        )
        assert isinstance(response, RoomCreateResponse), response
        return str(response.room_id)

    async def api(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """A raw client-server call with this user's token: (status, JSON body)."""
        from tests.system import json_request

        url = self.client.homeserver + path
        return await json_request(method, url, self.client.access_token, body)

    async def open_service_room(self, room_id: str) -> Received:
        """Join the service room the bot invited us to; returns the greeting."""
        await self.wait_for(lambda: room_id in self.invites or room_id in self.client.rooms)
        if room_id in self.invites:
            await self.join(room_id)
        return await self.wait_for_message(room_id, "Willkommen")

    async def send_text(self, room_id: str, body: str) -> str:
        await self.wait_for(lambda: room_id in self.client.rooms)
        response = await self.client.room_send(
            room_id,
            "m.room.message",
            {"msgtype": "m.text", "body": body},
            ignore_unverified_devices=True,
        )
        assert isinstance(response, RoomSendResponse), response
        return str(response.event_id)

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        """Any (encrypted) event: a file message, a reaction, a poll answer."""
        await self.wait_for(lambda: room_id in self.client.rooms)
        response = await self.client.room_send(
            room_id, event_type, content, ignore_unverified_devices=True
        )
        assert isinstance(response, RoomSendResponse), response
        return str(response.event_id)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.client.close()
