"""The insurer channel's 5-year purge (job `insurer_purge`, daily at `desk.purge_at`).

Messages older than `desk.purge_after` go: in each insurer channel and ticket room that holds
such messages, Synapse purges the history up to the first newer event (`purge_history` by event
id — by position in the room, so back-dated history counts by its own timestamps), their media
are deleted from the media store, and our sealed copies of them are dropped; tickets closed
before the cutoff go with their ticket rooms. The channels' `m.room.retention` policy makes
clients hide such messages as well. A legal hold on a patient (their channel) or on a ticket
suspends all of it for what it covers. Each step writes an audit row with its count.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from messenger.bots.attachments import delete_media
from messenger.bridge.errors import HomeserverUnreachable, MatrixError
from messenger.bridge.homeserver_client import q
from messenger.config import duration_ms
from messenger.db.database import now_ms
from messenger.db.stores import desk as store
from messenger.db.stores import jobs as audit_store
from messenger.db.stores import known_media
from messenger.desk import rooms
from messenger.desk.desk import Desk
from messenger.ids import RoomID
from messenger.retention.abandoned import AbandonedRooms

log = logging.getLogger(__name__)
JOB = "insurer_purge"
BATCH = 5000
PAGE = 200
ADMIN_V1 = "/_synapse/admin/v1"


class PurgeFailed(Exception):
    pass


@dataclass
class PurgeRun:
    rooms: int = 0
    events: int = 0
    media: int = 0
    messages: int = 0
    tickets: int = 0

    def as_json(self) -> dict[str, int]:
        return {"rooms": self.rooms, "events": self.events, "media": self.media,
                "messages": self.messages, "tickets": self.tickets}  # fmt: skip


class InsurerPurge:
    def __init__(self, desk: Desk, wait_s: float = 120.0) -> None:
        self._desk = desk
        self._wait_s = wait_s

    async def run(self, now: int) -> PurgeRun:
        desk = self._desk
        cutoff = now - duration_ms(desk.config.purge_after)
        result = PurgeRun()
        token = await desk.admin_token()
        await self._keep_holds_visible()
        while True:
            selected, deleted = await self._old_messages(token, cutoff, result)
            if selected < BATCH or not deleted:
                break  # done, or only what could not be purged this time is left
        await self._old_tickets(token, now, cutoff, result)
        return result

    async def _keep_holds_visible(self) -> None:
        """Held channels carry no retention policy, so Synapse's own purge spares them too
        (set again each run, in case setting it failed when the hold was placed)."""
        desk = self._desk
        async with desk.db.reading() as conn:
            held = await store.held_channel_rooms(conn)
        for room in held:
            try:
                await rooms.set_retention(desk.hs, desk.bot, RoomID(room), None)
            except (MatrixError, HomeserverUnreachable) as error:
                log.warning("retention policy of held channel %s not lifted: %s", room, error)

    async def _old_messages(self, token: str, cutoff: int, result: PurgeRun) -> tuple[int, int]:
        """One batch: purge the rooms of old messages, then drop the copies (and files) of
        exactly those messages whose room was purged past them."""
        desk = self._desk
        async with desk.db.reading() as conn:
            old = await store.old_messages(conn, cutoff, BATCH)
            tickets = sorted({m.ticket_id for m in old})
            channels = await store.channels_of_tickets(conn, tickets)
            limits = await store.purge_cutoffs(conn, channels, cutoff)
            ticket_rooms = await store.rooms_of_tickets(conn, tickets)
        targets = {room: cutoff for room in ticket_rooms}
        targets.update({room: limits[room] for room in channels if room in limits})
        purged_to: dict[str, int] = {}
        for room, room_cutoff in sorted(targets.items()):
            try:
                purged = await self._purge_history(token, room, room_cutoff)
            except (MatrixError, HomeserverUnreachable, PurgeFailed) as error:
                log.warning("history of %s not purged (next run tries again): %s", room, error)
                continue
            purged_to[room] = room_cutoff
            if purged:
                result.rooms += 1
                result.events += purged
                await self._audit(room, "history_purged", purged)
        gone = [m for m in old if m.at < purged_to.get(m.origin_room_id, 0)]
        deleted = []
        for message in gone:
            if message.mxc:
                try:
                    await delete_media(desk.hs, token, message.mxc)
                except (MatrixError, HomeserverUnreachable) as error:
                    log.warning("a purged message's file not deleted (next run): %s", error)
                    continue
                result.media += 1
            deleted.append(message)
        if deleted:
            async with desk.db.transaction() as conn:
                await store.delete_messages(conn, [m.id for m in deleted])
                for message in deleted:
                    await known_media.forget(conn, message.event_id)
            media = sum(1 for m in deleted if m.mxc)
            if media:
                await self._audit(None, "media_deleted", media)
            await self._audit(None, "ticket_messages_deleted", len(deleted))
        result.messages += len(deleted)
        return len(old), len(deleted)

    async def _old_tickets(self, token: str, now: int, cutoff: int, result: PurgeRun) -> None:
        """Tickets whose last activity lies before the cutoff and whose messages are gone (a
        ticket whose room could not be purged yet stays), with their ticket rooms."""
        desk = self._desk
        async with desk.db.reading() as conn:
            ids = await store.old_tickets(conn, cutoff, BATCH)
            ticket_rooms = await store.rooms_of_tickets(conn, ids)
        deletion = AbandonedRooms(desk.db, desk.hs, desk.admin_token, "", 0)
        for room in ticket_rooms:  # tracked: the abandoned-rooms job finishes a slow one
            await deletion.delete(token, room, JOB, now)
        if ids:
            async with desk.db.transaction() as conn:
                await store.delete_tickets(conn, ids)
            await self._audit(None, "tickets_deleted", len(ids))
        result.tickets = len(ids)

    async def _audit(self, room: str | None, action: str, count: int) -> None:
        async with self._desk.db.transaction() as conn:
            await audit_store.audit(conn, JOB, room, action, count, now_ms())

    async def _purge_history(self, token: str, room: str, cutoff: int) -> int:
        """Purge the room's events older than the cutoff; returns how many messages went."""
        boundary, older = await self._boundary(token, room, cutoff)
        if boundary is None or older == 0:
            return 0
        hs = self._desk.hs
        started = await hs.request(
            "POST", f"{ADMIN_V1}/purge_history/{q(room)}",
            body={"delete_local_events": True, "purge_up_to_event_id": boundary}, token=token,
        )  # fmt: skip
        purge_id = str(started["purge_id"])
        deadline = time.monotonic() + self._wait_s
        while True:
            status = await hs.request(
                "GET", f"{ADMIN_V1}/purge_history_status/{q(purge_id)}", token=token
            )
            if status.get("status") == "complete":
                return older
            if status.get("status") == "failed" or time.monotonic() > deadline:
                raise PurgeFailed(f"purge of {room}: {status.get('status', 'timed out')}")
            await asyncio.sleep(0.5)

    async def _boundary(self, token: str, room: str, cutoff: int) -> tuple[str | None, int]:
        """The room's first event at or after the cutoff (or its last event: Synapse keeps the
        last one), and how many messages lie before it."""
        hs = self._desk.hs
        older, last, start = 0, None, None
        while True:
            params = {"dir": "f", "limit": str(PAGE), **({"from": start} if start else {})}
            page: dict[str, Any] = await hs.request(
                "GET", f"{ADMIN_V1}/rooms/{q(room)}/messages", params=params, token=token
            )
            chunk = page.get("chunk", [])
            for event in chunk:
                if int(event.get("origin_server_ts", 0)) >= cutoff:
                    return str(event["event_id"]), older
                last = str(event["event_id"])
                if "state_key" not in event:
                    older += 1
            start = page.get("end")
            if not chunk or not start:
                return last, max(0, older - 1)
