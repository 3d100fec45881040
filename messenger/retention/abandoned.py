"""Abandoned rooms: deleted from the server (Synapse's delete-room API with purge) once every
local member has left and forgotten them, and rooms that only ever held state events (their
invite was never accepted) after a grace period.

Candidates come from our room registry (membership envelopes); whether every local member has
also *forgotten* a room only Synapse knows (its admin room details, `forgotten`). Each
deletion is recorded before it is asked for, so a crash in between resumes the same deletion
(by its delete id, or by finding the room gone) instead of losing or repeating it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from messenger.bridge.errors import MatrixError
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.db.database import Database
from messenger.db.stores import jobs as jobs_store
from messenger.db.stores import registry as registry_store
from messenger.db.stores import room_deletions as store

log = logging.getLogger(__name__)
JOB = "abandoned_rooms"
BATCH = 500
ADMIN_ROOMS_V2 = "/_synapse/admin/v2/rooms"
ABANDONED = "abandoned"
STATE_ONLY = "state_only"


@dataclass
class CleanupRun:
    checked: int = 0
    deleted: int = 0
    pending: int = 0
    failed: int = 0

    def as_json(self) -> dict[str, int]:
        return {"checked": self.checked, "deleted": self.deleted, "pending": self.pending,
                "failed": self.failed}  # fmt: skip


class AbandonedRooms:
    def __init__(
        self, db: Database, hs: HomeserverClient, admin_token: Callable[[], Awaitable[str]],
        server_name: str, state_only_after_ms: int, wait_s: float = 60.0,
    ) -> None:  # fmt: skip
        self._db = db
        self._hs = hs
        self._admin_token = admin_token
        self._server = server_name
        self._state_only_after = state_only_after_ms
        self._wait_s = wait_s

    async def run(self, now: int) -> CleanupRun:
        result = CleanupRun()
        token = await self._admin_token()
        async with self._db.reading() as conn:
            unfinished = await store.unfinished(conn)
        for row in unfinished:  # deletions a crash or a slow purge left behind
            delete_id = None if row.status == "failed" else row.delete_id
            await self._follow(token, row.room_id, row.reason, delete_id, now, result)
        async with self._db.reading() as conn:
            left = await store.left_by_all_locals(conn, self._server, BATCH)
            unused = await store.state_only(conn, now - self._state_only_after, BATCH)
        for room in left:
            result.checked += 1
            if await self._forgotten_by_all(token, room):
                await self._delete(token, room, ABANDONED, now, result)
        already = set(left)
        for room in unused:
            if room not in already:
                result.checked += 1
                await self._delete(token, room, STATE_ONLY, now, result)
        return result

    async def _forgotten_by_all(self, token: str, room: str) -> bool:
        details = await self._hs.room_details(token, room)
        return details is None or bool(details.get("forgotten"))  # unknown: nothing to keep

    async def delete(self, token: str, room: str, reason: str, now: int) -> CleanupRun:
        """Delete one room for another job (recorded first, so a later run of this job
        finishes what a crash or a slow purge left)."""
        result = CleanupRun(checked=1)
        await self._delete(token, room, reason, now, result)
        return result

    async def _delete(
        self, token: str, room: str, reason: str, now: int, result: CleanupRun
    ) -> None:
        async with self._db.transaction() as conn:
            await store.start(conn, room, reason, now)
        await self._follow(token, room, reason, None, now, result)

    async def _follow(
        self, token: str, room: str, reason: str, delete_id: str | None, now: int,
        result: CleanupRun,
    ) -> None:  # fmt: skip
        """Ask for the deletion (unless already asked) and wait a while for it to finish."""
        try:
            status = await self._wait(token, delete_id) if delete_id else "unknown"
            if status == "unknown":  # never asked, failed before, or Synapse restarted since
                status = "gone" if await self._hs.room_details(token, room) is None else ""
            if not status:
                answer = await self._hs.request(
                    "DELETE", f"{ADMIN_ROOMS_V2}/{quote(room)}",
                    body={"purge": True, "block": False}, token=token,
                )  # fmt: skip
                delete_id = str(answer["delete_id"])
                async with self._db.transaction() as conn:
                    await store.set_status(conn, room, "active", delete_id=delete_id)
                status = await self._wait(token, delete_id)
        except MatrixError as error:
            log.warning("deleting room %s failed: %s", room, error)
            result.failed += 1
            return
        if status in store.FINISHED:
            async with self._db.transaction() as conn:
                known = await registry_store.get_room(conn, room)
                count = known.message_count if known is not None else 0
                await store.set_status(conn, room, status, finished_at=now)
                await registry_store.drop_room(conn, room)
                await jobs_store.audit(conn, JOB, room, f"room_deleted_{reason}", count, now)
            result.deleted += 1
            log.info("deleted %s room %s", reason, room)
        elif status == "failed":
            async with self._db.transaction() as conn:  # asked again at the next run
                await store.set_status(conn, room, "failed")
            result.failed += 1
        else:
            result.pending += 1

    async def _wait(self, token: str, delete_id: str) -> str:
        """complete | failed | active/scheduled (still running) | unknown (no such deletion)."""
        deadline = asyncio.get_running_loop().time() + self._wait_s
        while True:
            try:
                answer = await self._hs.request(
                    "GET", f"{ADMIN_ROOMS_V2}/delete_status/{quote(delete_id)}", token=token
                )
            except MatrixError as error:
                if error.status == 404:
                    return "unknown"
                raise
            status = str(answer.get("status"))
            if status in ("complete", "failed") or asyncio.get_running_loop().time() > deadline:
                return status
            await asyncio.sleep(0.5)
