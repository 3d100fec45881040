"""Attachments in the bots' rooms: remembered when they arrive, deleted from the media store
when their message is deleted (redacted), with an audit row. Synapse itself keeps media when a
message is redacted; in the rooms our bots are in, we know which media a message carried."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from messenger.bridge.errors import MatrixError
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.db.database import Database, now_ms
from messenger.db.stores import jobs as audit_store
from messenger.db.stores import known_media

log = logging.getLogger(__name__)
ADMIN_MEDIA = "/_synapse/admin/v1/media"


class Attachments:
    def __init__(
        self, db: Database, hs: HomeserverClient, admin_token: Callable[[], Awaitable[str]],
        bot: str,
    ) -> None:  # fmt: skip
        self._db = db
        self._hs = hs
        self._admin_token = admin_token
        self._bot = bot

    async def received(self, room_id: str, event_id: str, mxc: str) -> None:
        if mxc.startswith("mxc://"):
            async with self._db.transaction() as conn:
                await known_media.remember(conn, event_id, room_id, mxc, now_ms())

    async def redacted(self, room_id: str, event_id: str) -> None:
        """Delete the media of a deleted message. No database transaction is held while Synapse
        is asked; a failure is logged by the runtime and keeps the row (not retried yet)."""
        async with self._db.reading() as conn:
            mxc = await known_media.of_event(conn, room_id, event_id)
        if mxc is None:
            return
        await delete_media(self._hs, await self._admin_token(), mxc)
        async with self._db.transaction() as conn:
            await known_media.forget(conn, event_id)
            await audit_store.audit(conn, self._bot, room_id, "media_deleted", 1, now_ms())
        log.info("deleted the media of a deleted message in %s", room_id)


async def delete_media(hs: HomeserverClient, admin_token: str, mxc: str) -> None:
    """Delete one file from Synapse's media store (deleted already: fine)."""
    server, _, media_id = mxc.removeprefix("mxc://").partition("/")
    try:
        await hs.request(
            "DELETE", f"{ADMIN_MEDIA}/{quote(server)}/{quote(media_id)}", token=admin_token
        )
    except MatrixError as error:
        if error.status != 404:
            raise
