"""Runs one bot: its account, its one device (kept across restarts), crypto store and sync loop.

Device: logged in once with m.login.application_service; id, token (sealed) and cross-signing seeds
are kept in `bot_devices`; the vodozemac store (pickled with the real pickle key) lives in
<data>/bots/<localpart>/. If that store is lost or cannot be opened, the old device is deleted
and a new one made, signed with the same cross-signing identity.

Nothing a sync delivered is lost: sync callbacks only put work into a queue, and the position in
the sync stream is saved by us (not nio) after the work of that sync is done — a crash replays
the sync from the last saved position. Setup (cross-signing) is retried after every sync until it
succeeds; the bot reports ready only then. Messages whose room key has not arrived yet are retried
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
    ErrorResponse,
    ForwardedRoomKeyEvent,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RedactionEvent,
    RoomEncryptedMedia,
    RoomKeyEvent,
    RoomMemberEvent,
    RoomMessageMedia,
    RoomMessageText,
    RoomSendResponse,
    SyncError,
    UnknownEvent,
    UploadFilterResponse,
)

from messenger.bots.attachments import Attachments
from messenger.bots.base import Bot, InboundMessage
from messenger.bots.cross_signing import cross_sign_device
from messenger.bridge.errors import MatrixError, UnknownToken
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.config import BotSection
from messenger.db.database import Database, now_ms
from messenger.db.stores import bot_devices
from messenger.db.stores.bot_devices import BotDevice
from messenger.ids import DeviceID, EventID, RoomID, UserID, localpart
from messenger.secretbox import SecretBox, SecretBoxError

log = logging.getLogger(__name__)
UNDECRYPTABLE_GRACE_S = 60.0
SYNC_TIMEOUT_MS = 30_000
RETRIES = 3
RETRY_DELAY_S = 15.0
# events beyond m.room.message that bots are given: poll answers (stable and MSC3381)
POLL_RESPONSES = ("m.poll.response", "org.matrix.msc3381.poll.response")
# a bot shares a room with every insured person: it asks for no presence, receipts or typing
# (Synapse would compute them for every sync it wakes) and never shows itself online (a change of
# its presence would go to all of them)
SYNC_FILTER: dict[str, Any] = {"presence": {"types": []}, "room": {"ephemeral": {"types": []}}}
SYNC_PRESENCE = "offline"


class BotSendError(Exception):
    pass


@dataclass(frozen=True)
class _Work:
    kind: str  # join | message | key_request | checkpoint
    room_id: RoomID = RoomID("")  # noqa: RUF009 - NewType is the identity at run time
    user: UserID = UserID("")  # noqa: RUF009
    body: str = ""
    event: Any = None
    message: InboundMessage | None = None


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
        self._box = SecretBox(pickle_key)
        self._db = db
        self.attachments = Attachments(db, hs, admin_token, str(user_id))
        self._hs = hs
        self._admin_token = admin_token
        self._bot = bot
        self._queue: asyncio.Queue[_Work] = asyncio.Queue()
        self._pending: dict[str, list[_Pending]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._skip_history = False
        self.ready = asyncio.Event()
        self.device_id: DeviceID | None = None
        self.client: AsyncClient | None = None
        self._filter: str | dict[str, Any] = SYNC_FILTER  # its uploaded id once there is one

    # --- account and device ------------------------------------------------------------------
    def _store_file(self, device: DeviceID) -> Path:
        return self._store_dir / f"{self.user_id}_{device}.db"

    async def _known_device(self) -> BotDevice | None:
        try:
            async with self._db.transaction() as conn:
                known = await bot_devices.get(conn, self.user_id, self._box)
        except SecretBoxError:
            log.warning(
                "bot %s: stored credentials unreadable (pickle key changed); new device and "
                "new cross-signing identity",
                self.user_id,
            )
            async with self._db.transaction() as conn:
                await bot_devices.forget(conn, self.user_id)
            return None
        if known is None:
            return None
        try:
            await self._hs.whoami(known.access_token)
        except UnknownToken:
            log.warning("bot %s: device %s gone from the server", self.user_id, known.device_id)
            return None
        if not self._store_file(known.device_id).exists():
            log.warning("bot %s: crypto store of %s is missing", self.user_id, known.device_id)
            await self._retire(known.device_id)
            return None
        return known

    async def _retire(self, device: DeviceID) -> None:
        with contextlib.suppress(MatrixError):
            await self._hs.delete_device(self.user_id, device)
        shutil.rmtree(self._store_dir, ignore_errors=True)

    async def _new_device(self) -> BotDevice:
        shutil.rmtree(self._store_dir, ignore_errors=True)
        token, device = await self._hs.login_appservice_user(
            localpart(self.user_id), self._section.device_display_name
        )
        async with self._db.transaction() as conn:
            await bot_devices.save_device(conn, self.user_id, device, token, now_ms(), self._box)
            created = await bot_devices.get(conn, self.user_id, self._box)
        assert created is not None
        log.info("bot %s: new device %s", self.user_id, device)
        return created

    def _open_client(self, device: BotDevice) -> AsyncClient:
        self._store_dir.mkdir(parents=True, exist_ok=True)
        client = AsyncClient(
            self._homeserver_url,
            self.user_id,
            device_id=device.device_id,
            store_path=str(self._store_dir),
            config=AsyncClientConfig(
                encryption_enabled=True, store_sync_tokens=False, pickle_key=self._pickle_key
            ),
        )
        client.restore_login(self.user_id, device.device_id, device.access_token)
        return client

    async def start(self) -> None:
        await self._hs.register_appservice_user(localpart(self.user_id))
        await self._hs.set_display_name(self.user_id, self._section.display_name)
        device = await self._known_device() or await self._new_device()
        try:
            client = self._open_client(device)
        except Exception:
            log.exception("bot %s: crypto store cannot be opened; new device", self.user_id)
            await self._retire(device.device_id)
            device = await self._new_device()
            client = self._open_client(device)
        self.device_id = device.device_id
        try:
            await self._hs.override_ratelimit(await self._admin_token(), self.user_id)
        except MatrixError:
            log.exception("bot %s: could not lift its rate limit", self.user_id)
        client.next_batch = device.sync_token
        self._skip_history = device.sync_token is None
        client.add_event_callback(self._on_member, RoomMemberEvent)
        client.add_event_callback(self._on_message, (RoomMessageText, ReactionEvent, UnknownEvent))
        client.add_event_callback(self._on_megolm, MegolmEvent)
        client.add_event_callback(self._on_media, (RoomMessageMedia, RoomEncryptedMedia))
        client.add_event_callback(self._on_redaction, RedactionEvent)
        client.add_to_device_callback(self._on_room_key, (RoomKeyEvent, ForwardedRoomKeyEvent))
        self.client = client
        self._tasks = [
            asyncio.create_task(self._sync_loop(device), name=f"sync {self.user_id}"),
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
    async def _sync_filter(self, client: AsyncClient) -> str | dict[str, Any]:
        """The filter's id, uploaded once (Synapse checks an inline filter at every sync);
        inline until an upload succeeds."""
        if isinstance(self._filter, dict):
            uploaded = await client.upload_filter(
                presence=SYNC_FILTER["presence"], room=SYNC_FILTER["room"]
            )
            if isinstance(uploaded, UploadFilterResponse):
                self._filter = uploaded.filter_id
        return self._filter

    async def _sync_once(self, client: AsyncClient, first: bool) -> bool:
        response = await client.sync(
            timeout=0 if first else SYNC_TIMEOUT_MS, full_state=first,
            sync_filter=await self._sync_filter(client), set_presence=SYNC_PRESENCE,
        )  # fmt: skip
        if isinstance(response, SyncError):
            log.warning("bot %s: sync failed: %s", self.user_id, response.message)
            self._filter = SYNC_FILTER  # uploaded anew: the server may have lost the old one
            return False
        results = []
        if client.should_upload_keys:
            results.append(await client.keys_upload())
        if client.should_query_keys:
            results.append(await client.keys_query())
        if client.should_claim_keys:
            results.append(await client.keys_claim(client.get_users_for_key_claiming()))
        results.extend(await client.send_to_device_messages())
        for result in results:
            if isinstance(result, ErrorResponse):
                log.warning("bot %s: %s: %s", self.user_id, type(result).__name__, result.message)
        return True

    async def _ensure_cross_signed(self, device: BotDevice) -> None:
        if device.cross_signed_at is not None:
            return
        seeds = await cross_sign_device(
            self._hs, self.user_id, device.device_id, device.cross_signing_seeds
        )
        async with self._db.transaction() as conn:
            await bot_devices.mark_cross_signed(conn, self.user_id, seeds, now_ms(), self._box)
        log.info("bot %s: device %s cross-signed", self.user_id, device.device_id)

    async def _sync_loop(self, device: BotDevice) -> None:
        assert self.client is not None
        delay = 1.0
        first = True
        while True:
            try:
                if not await self._sync_once(self.client, first):
                    raise ConnectionError("sync failed")
                first = False
                self._skip_history = False
                self._queue.put_nowait(_Work("checkpoint", body=str(self.client.next_batch)))
                if not self.ready.is_set():
                    await self._ensure_cross_signed(device)  # retried after every sync until done
                    self.ready.set()
                delay = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("bot %s: %s; retrying in %.0f s", self.user_id, error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60)

    # --- callbacks (inside nio's sync): only queue, never raise, no network ----------------------
    def _queue_work(self, work: _Work) -> None:
        if not self._skip_history:
            self._queue.put_nowait(work)

    async def _on_member(self, room: MatrixRoom, event: RoomMemberEvent) -> None:
        if event.state_key == self.user_id:
            return
        if event.membership == "join" and event.prev_membership != "join":
            self._queue_work(_Work("join", RoomID(room.room_id), UserID(event.state_key)))

    @staticmethod
    def _inbound(event: Any) -> InboundMessage | None:
        source = event.source if isinstance(event.source, dict) else {}
        event_type = source.get("type", "m.room.message")
        if isinstance(event, UnknownEvent) and event_type not in POLL_RESPONSES:
            return None
        content = source.get("content")
        if not isinstance(content, dict):
            return None
        return InboundMessage(
            EventID(event.event_id), str(event_type), content, int(event.server_timestamp)
        )

    async def _on_message(self, room: MatrixRoom, event: Any) -> None:
        message = self._inbound(event) if event.sender != self.user_id else None
        if message is not None:
            self._queue_work(
                _Work("message", RoomID(room.room_id), UserID(event.sender), message=message)
            )

    async def _on_media(self, room: MatrixRoom, event: Any) -> None:
        if event.sender == self.user_id or not isinstance(event.url, str):
            return
        try:
            await self.attachments.received(room.room_id, event.event_id, event.url)
        except Exception:
            log.exception("bot %s: attachment not recorded", self.user_id)
        await self._on_message(room, event)

    async def _on_redaction(self, room: MatrixRoom, event: RedactionEvent) -> None:
        if isinstance(event.redacts, str):
            try:
                await self.attachments.redacted(room.room_id, event.redacts)
            except Exception:
                log.exception("bot %s: media of a deleted message not deleted", self.user_id)

    async def _on_megolm(self, room: MatrixRoom, event: MegolmEvent) -> None:
        if self._skip_history or event.sender == self.user_id:
            return
        self._pending.setdefault(event.session_id, []).append(
            _Pending(RoomID(room.room_id), event, time.monotonic())
        )
        self._queue_work(_Work("key_request", event=event))

    async def _on_room_key(self, event: Any) -> None:
        waiting = self._pending.pop(getattr(event, "session_id", ""), [])
        for item in waiting:
            try:
                assert self.client is not None
                decrypted = self.client.decrypt_event(item.event)
            except Exception:
                log.warning(
                    "bot %s: late key did not decrypt %s", self.user_id, item.event.event_id
                )
                self._pending.setdefault(event.session_id, []).append(item)
                continue
            message = self._inbound(decrypted)
            if message is not None and isinstance(
                decrypted, (RoomMessageText, RoomMessageMedia, RoomEncryptedMedia, ReactionEvent,
                            UnknownEvent),
            ):  # fmt: skip
                self._queue.put_nowait(
                    _Work("message", item.room_id, UserID(decrypted.sender), message=message)
                )

    # --- consumer ---------------------------------------------------------------------------
    async def _consume(self) -> None:
        await self.ready.wait()
        await self._run(self._bot.on_ready(self))
        while True:
            try:
                work = await asyncio.wait_for(self._queue.get(), timeout=10)
            except TimeoutError:
                await self._expire_pending()
                continue
            await self._handle(work)

    async def _handle(self, work: _Work) -> None:
        if work.kind == "checkpoint":
            async with self._db.transaction() as conn:
                await bot_devices.save_sync_token(conn, self.user_id, work.body)
            return
        if work.kind == "key_request":
            assert self.client is not None
            with contextlib.suppress(Exception):
                await self.client.request_room_key(work.event)
            return
        # A failed handler is retried in place: the checkpoint queued behind this work is not
        # saved before it is done (or given up), so a crash meanwhile replays it.
        for attempt in range(RETRIES + 1):
            if attempt:
                await asyncio.sleep(RETRY_DELAY_S)
            if work.kind == "join":
                done = await self._run(self._bot.on_join(self, work.room_id, work.user))
            else:
                assert work.message is not None
                done = await self._run(
                    self._bot.on_message(self, work.room_id, work.user, work.message)
                )
            if done:
                return
        log.error("bot %s: gave up on an event in %s after %d tries", self.user_id,
                  work.room_id, RETRIES + 1)  # fmt: skip

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
                await self._run(
                    self._bot.on_undecryptable(self, item.room_id, UserID(item.event.sender))
                )

    async def _run(self, work: Awaitable[None]) -> bool:
        try:
            await work
            return True
        except Exception:
            log.exception("bot %s: handler failed", self.user_id)
            return False

    # --- actions ----------------------------------------------------------------------------
    async def send_notice(self, room_id: RoomID, body: str, txn_id: str | None = None) -> str:
        """Send an encrypted m.notice; returns the event id. A fixed `txn_id` makes a resend
        after a crash a no-op at the homeserver."""
        return await self.send(room_id, {"msgtype": "m.notice", "body": body}, txn_id)

    async def send(
        self, room_id: RoomID, content: dict[str, Any], txn_id: str | None = None,
        event_type: str = "m.room.message",
    ) -> str:  # fmt: skip
        """Send any (encrypted) event; returns its id. Same `txn_id`, same event."""
        assert self.client is not None
        response = await self.client.room_send(
            room_id, event_type, content, tx_id=txn_id, ignore_unverified_devices=True
        )
        if not isinstance(response, RoomSendResponse):
            raise BotSendError(f"sending to {room_id} failed: {getattr(response, 'message', '')}")
        return str(response.event_id)

    def is_joined(self, room_id: RoomID, user: UserID) -> bool:
        assert self.client is not None
        room = self.client.rooms.get(room_id)
        return bool(room and user in room.users and user not in room.invited_users)

    def is_member(self, room_id: RoomID, user: UserID) -> bool:
        """Joined or invited."""
        assert self.client is not None
        room = self.client.rooms.get(room_id)
        return bool(room and (user in room.users or user in room.invited_users))
