"""The notice courier: sends queued notices (notice_outbox) into service rooms.

A notice is written in the transaction of the change it reports; this loop sends it with a
transaction id derived from its row, then marks it sent. A crash between the two resends with
the same transaction id, which the homeserver answers with the event it already has — so every
notice arrives exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from messenger.bots.runtime import BotRuntime
from messenger.bots.texts import text
from messenger.db.database import Database, now_ms
from messenger.db.stores import chat_requests as store
from messenger.ids import RoomID

log = logging.getLogger(__name__)
POLL_S = 2.0
KEEP_SENT_MS = 7 * 86_400_000


class NoticeCourier:
    def __init__(self, db: Database, default_language: str) -> None:
        self._db = db
        self._default_language = default_language
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, runtime: BotRuntime) -> None:
        while True:
            self._wake.clear()
            try:
                sent = await self.send_pending(runtime)
            except Exception:
                log.exception("notices: sending failed, retrying in 5 s")
                await asyncio.sleep(5)
                continue
            if not sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=POLL_S)

    async def send_pending(self, runtime: BotRuntime) -> int:
        async with self._db.reading() as conn:
            pending = await store.unsent_notices(conn)
        sent = 0
        for notice in pending:
            body = text(notice.text_key, notice.language or self._default_language, **notice.args)
            try:  # one room that cannot take a notice must not hold up the others
                await runtime.send_notice(
                    RoomID(notice.room_id), body, txn_id=f"notice-{notice.id}"
                )
            except Exception as error:
                log.warning("notice %d not sent yet: %s", notice.id, error)
                continue
            async with self._db.transaction() as conn:
                await store.mark_sent(conn, notice.id, now_ms())
            sent += 1
        if pending:
            async with self._db.transaction() as conn:
                await store.prune_notices(conn, now_ms() - KEEP_SENT_MS)
        return sent
