"""The notice courier: sends queued notices (notice_outbox) into service rooms.

A notice is written in the transaction of the change it reports; this loop sends it with a
transaction id derived from its row, then marks it sent. A crash between the two resends with
the same transaction id, which the homeserver answers with the event it already has — so every
notice arrives exactly once. A notice that cannot be sent is retried later with a growing
pause (5 s doubling, at most an hour) and never holds up the others.
"""

from __future__ import annotations

import logging
import time

from messenger.bots.courier import Courier
from messenger.bots.runtime import BotRuntime
from messenger.bots.texts import text
from messenger.db.database import Database, now_ms
from messenger.db.stores import chat_requests as store
from messenger.ids import RoomID

log = logging.getLogger(__name__)
KEEP_SENT_MS = 7 * 86_400_000
PRUNE_EVERY_S = 3600.0


class NoticeCourier(Courier):
    def __init__(self, db: Database, default_language: str) -> None:
        super().__init__()
        self._db = db
        self._default_language = default_language
        self._last_prune = 0.0

    async def send_pending(self, runtime: BotRuntime) -> int:
        async with self._db.reading() as conn:
            pending = await store.unsent_notices(conn, now_ms())
        sent = 0
        for notice in pending:
            body = text(notice.text_key, notice.language or self._default_language, **notice.args)
            try:  # one room that cannot take a notice must not hold up the others
                await runtime.send_notice(
                    RoomID(notice.room_id), body, txn_id=f"notice-{notice.id}"
                )
            except Exception as error:
                async with self._db.transaction() as conn:
                    delay = await store.postpone_notice(conn, notice.id, now_ms())
                log.warning("notice %d not sent (%s); next try in %d s", notice.id, error,
                            delay // 1000)  # fmt: skip
                continue
            async with self._db.transaction() as conn:
                await store.mark_sent(conn, notice.id, now_ms())
            sent += 1
        if time.monotonic() - self._last_prune > PRUNE_EVERY_S:
            self._last_prune = time.monotonic()
            async with self._db.transaction() as conn:
                await store.prune_notices(conn, now_ms() - KEEP_SENT_MS)
        return sent
