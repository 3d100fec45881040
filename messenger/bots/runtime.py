"""Runs one bot: its account, its one device (kept across restarts), its crypto store and sync loop.

Device: logged in once with m.login.application_service; id and token are kept in our database and
the vodozemac crypto store (pickled with the real pickle key) under <data>/bots/<localpart>/.
Reactions are queued by the sync callbacks and handled by a consumer task once the device is ready,
so slow handlers never stall the sync loop. Messages whose room key has not arrived yet are retried
when the key arrives; after a grace period the sender is told.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    ForwardedRoomKeyEvent,
    MatrixRoom,
    MegolmEvent,
    RoomKeyEvent,
    RoomMemberEvent,
    RoomMessageText,
    RoomSendResponse,
    SyncError,
)

from messenger.bots.base import Bot
from messenger.bots.cross_signing import cross_sign_device
from messenger.bridge.errors import MatrixError, UnknownToken
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.config import BotSection
from messenger.db.database import Database, now_ms
from messenger.db.stores import bot_devices
from messenger.ids import DeviceID, RoomID, UserID, localpart

log = logging.getLogger(__name__)
UNDECRYPTABLE_GRACE_S = 60.0
SYNC_TIMEOUT_MS = 30_000


class BotSendError(Exception):
    pass


@dataclass
class _Pending:
    room_id: RoomID
    event: MegolmEvent
    since: float


class BotRuntime:
    def __init__(
        self,
        *,
        user_id: UserID,
        section: BotSection,
        homeserver_url: str,
        store_dir: Path,
        pickle_key: str,
        db: Database,
        hs: HomeserverClient,
        admin_token: Callable[[], Awaitable[str]],
        bot: Bot,
    ) -> None:
        self.user_id = user_id
        self._section = section
        self._homeserver_url = homeserver_url
        self._store_dir = store_dir
        self._pickle_key = pickle_key
        self._db = db
        self._hs = hs
        self._admin_token = admin_token
        self._bot = bot
        self._queue: asyncio.Queue[tuple[str, RoomID, UserID, str]] = asyncio.Queue()
        self._pending: dict[str, list[_Pending]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._skip_history = False
        self.ready = asyncio.Event()
        self.device_id: DeviceID | None = None
        self.client: AsyncClient | None = None

    # --- account and device ------------------------------------------------------------------
    async def _device(self) -> tuple[DeviceID, str, str | None, bool]:
        async with self._db.transaction() as conn:
            known = await bot_devices.get(conn, self.user_id)
        if known is not None:
            try:
                await self._hs.whoami(known.access_token)
                return (
                    known.device_id,
                    known.access_token,
                    known.cross_signing_seeds,
                    known.cross_signed_at is not None,
                )
            except UnknownToken:
                log.warning(
                    "bot %s: device %s lost on the server; new device",
                    self.user_id,
                    known.device_id,
                )
                shutil.rmtree(self._store_dir, ignore_errors=True)
        token, device = await self._hs.login_appservice_user(
            localpart(self.user_id), self._section.device_display_name
        )
        async with self._db.transaction() as conn:
            await bot_devices.save(conn, self.user_id, device, token, now_ms())
        log.info("bot %s: new device %s", self.user_id, device)
        return device, token, None, False

    async def start(self) -> None:
        await self._hs.register_appservice_user(localpart(self.user_id))
        await self._hs.set_display_name(self.user_id, self._section.display_name)
        device, token, seeds, cross_signed = await self._device()
        self.device_id = device
        try:
            await self._hs.override_ratelimit(await self._admin_token(), self.user_id)
        except MatrixError:
            log.exception("bot %s: could not lift its rate limit", self.user_id)
        self._store_dir.mkdir(parents=True, exist_ok=True)
        client = AsyncClient(
            self._homeserver_url,
            self.user_id,
            device_id=device,
            store_path=str(self._store_dir),
            config=AsyncClientConfig(
                encryption_enabled=True, store_sync_tokens=True, pickle_key=self._pickle_key
            ),
        )
        client.restore_login(self.user_id, device, token)
        self._skip_history = client.loaded_sync_token is None
        client.add_event_callback(self._on_member, RoomMemberEvent)
        client.add_event_callback(self._on_text, RoomMessageText)
        client.add_event_callback(self._on_megolm, MegolmEvent)
        client.add_to_device_callback(self._on_room_key, (RoomKeyEvent, ForwardedRoomKeyEvent))
        self.client = client
        self._tasks = [
            asyncio.create_task(self._sync_loop(seeds, cross_signed), name=f"sync {self.user_id}"),
            asyncio.create_task(self._consume(), name=f"bot {self.user_id}"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.client is not None:
            await self.client.close()

    # --- sync -------------------------------------------------------------------------------
    async def _sync_once(self, client: AsyncClient, first: bool) -> bool:
        response = await client.sync(timeout=0 if first else SYNC_TIMEOUT_MS, full_state=first)
        if isinstance(response, SyncError):
            log.warning("bot %s: sync failed: %s", self.user_id, response.message)
            return False
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()
        return True

    async def _sync_loop(self, seeds: str | None, cross_signed: bool) -> None:
        assert self.client is not None and self.device_id is not None
        delay = 1.0
        first = True
        while True:
            try:
                if not await self._sync_once(self.client, first):
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 60)
                    continue
                delay = 1.0
                if first:
                    first = False
                    self._skip_history = False
                    if not cross_signed:
                        seeds = await cross_sign_device(
                            self._hs, self.user_id, self.device_id, seeds
                        )
                        async with self._db.transaction() as conn:
                            await bot_devices.mark_cross_signed(conn, self.user_id, seeds, now_ms())
                        cross_signed = True
                        log.info("bot %s: device %s cross-signed", self.user_id, self.device_id)
                    self.ready.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("bot %s: sync loop error; retrying in %.0f s", self.user_id, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60)

    # --- callbacks (inside sync): only queue ---------------------------------------------------
    def _from_history(self) -> bool:
        return self._skip_history

    async def _on_member(self, room: MatrixRoom, event: RoomMemberEvent) -> None:
        if self._from_history() or event.state_key == self.user_id:
            return
        if event.membership == "join" and event.prev_membership != "join":
            self._queue.put_nowait(("join", RoomID(room.room_id), UserID(event.state_key), ""))

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if self._from_history() or event.sender == self.user_id:
            return
        self._queue.put_nowait(("text", RoomID(room.room_id), UserID(event.sender), event.body))

    async def _on_megolm(self, room: MatrixRoom, event: MegolmEvent) -> None:
        if self._from_history() or event.sender == self.user_id:
            return
        log.info(
            "bot %s: message %s not decryptable yet; waiting for its key",
            self.user_id,
            event.event_id,
        )
        self._pending.setdefault(event.session_id, []).append(
            _Pending(RoomID(room.room_id), event, time.monotonic())
        )
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.request_room_key(event)

    async def _on_room_key(self, event: Any) -> None:
        waiting = self._pending.pop(getattr(event, "session_id", ""), [])
        for item in waiting:
            assert self.client is not None
            decrypted = self.client.decrypt_event(item.event)
            if isinstance(decrypted, RoomMessageText):
                self._queue.put_nowait(
                    ("text", item.room_id, UserID(decrypted.sender), decrypted.body)
                )
            elif not isinstance(decrypted, MegolmEvent):
                log.info("bot %s: late key decrypted a non-text event", self.user_id)
            else:
                self._pending.setdefault(event.session_id, []).append(item)

    # --- consumer ---------------------------------------------------------------------------
    async def _consume(self) -> None:
        await self.ready.wait()
        await self._safely(self._bot.on_ready(self))
        while True:
            try:
                kind, room_id, user, body = await asyncio.wait_for(self._queue.get(), timeout=10)
            except TimeoutError:
                await self._expire_pending()
                continue
            if kind == "join":
                await self._safely(self._bot.on_join(self, room_id, user))
            elif kind == "text":
                await self._safely(self._bot.on_text(self, room_id, user, body))

    async def _expire_pending(self) -> None:
        now = time.monotonic()
        for session_id, items in list(self._pending.items()):
            expired = [item for item in items if now - item.since > UNDECRYPTABLE_GRACE_S]
            if not expired:
                continue
            self._pending[session_id] = [item for item in items if item not in expired]
            if not self._pending[session_id]:
                del self._pending[session_id]
            for item in expired:
                await self._safely(
                    self._bot.on_undecryptable(self, item.room_id, UserID(item.event.sender))
                )

    async def _safely(self, work: Awaitable[None]) -> None:
        try:
            await work
        except Exception:
            log.exception("bot %s: handler failed", self.user_id)

    # --- actions ----------------------------------------------------------------------------
    async def send_notice(self, room_id: RoomID, body: str) -> str:
        """Send an encrypted m.notice; returns the event id."""
        assert self.client is not None
        response = await self.client.room_send(
            room_id,
            "m.room.message",
            {"msgtype": "m.notice", "body": body},
            ignore_unverified_devices=True,
        )
        if not isinstance(response, RoomSendResponse):
            raise BotSendError(
                f"sending to {room_id} failed: {getattr(response, 'message', response)}"
            )
        return str(response.event_id)

    def is_joined(self, room_id: RoomID, user: UserID) -> bool:
        assert self.client is not None
        room = self.client.rooms.get(room_id)
        return bool(room and user in room.users and user not in room.invited_users)
