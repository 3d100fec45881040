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
from messenger.bridge.errors import MatrixError
from messenger.bridge.homeserver_client import q
from messenger.config import duration_ms
from messenger.db.database import now_ms
from messenger.db.stores import desk as store
from messenger.db.stores import jobs as audit_store
from messenger.desk.desk import Desk

log = logging.getLogger(__name__)
JOB = "insurer_purge"
BATCH = 5000
PAGE = 200
ADMIN_V1 = "/_synapse/admin/v1"


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
        while await self._old_messages(token, cutoff, result) == BATCH:
            pass  # more than one batch is due (a first run after years)
        await self._old_tickets(token, cutoff, result)
        return result

    async def _old_messages(self, token: str, cutoff: int, result: PurgeRun) -> int:
        desk = self._desk
        async with desk.db.reading() as conn:
            old = await store.old_messages(conn, cutoff, BATCH)
            channels = sorted({m.origin_room_id for m in old})
            limits = await store.purge_cutoffs(conn, channels, cutoff)
            rooms = await store.rooms_of_tickets(conn, sorted({m.ticket_id for m in old}))
        targets = {m.origin_room_id: limits.get(m.origin_room_id, cutoff) for m in old}
        targets.update({room: cutoff for room in rooms})
        for room, room_cutoff in sorted(targets.items()):
            purged = await self._purge_history(token, room, room_cutoff)
            if purged:
                result.rooms += 1
                result.events += purged
                await self._audit(room, "history_purged", purged)
        media = sorted({m.mxc for m in old if m.mxc})
        for mxc in media:
            await delete_media(desk.hs, token, mxc)
        if media:
            await self._audit(None, "media_deleted", len(media))
        result.media += len(media)
        if old:
            async with desk.db.transaction() as conn:
                await store.delete_messages(conn, [m.id for m in old])
            await self._audit(None, "ticket_messages_deleted", len(old))
        result.messages += len(old)
        return len(old)

    async def _old_tickets(self, token: str, cutoff: int, result: PurgeRun) -> None:
        desk = self._desk
        async with desk.db.reading() as conn:
            ids = await store.old_closed_tickets(conn, cutoff, BATCH)
            rooms = await store.rooms_of_tickets(conn, ids)
        for room in rooms:  # ticket rooms of tickets that go: the whole room
            try:
                await desk.hs.request("DELETE", f"/_synapse/admin/v2/rooms/{q(room)}",
                                      body={"purge": True}, token=token)  # fmt: skip
            except MatrixError as error:
                if error.status not in (400, 404):  # unknown room: gone already
                    raise
            await self._audit(room, "ticket_room_deleted", 1)
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
                raise RuntimeError(f"purge of {room} {status.get('status', 'timed out')}")
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
