"""The notice courier: sends queued notices (notice_outbox) into service rooms.

A notice is written in the transaction of the change it reports; this loop sends it with a
transaction id derived from its row, then marks it sent. A crash between the two resends with
the same transaction id, which the homeserver answers with the event it already has — so every
notice arrives exactly once. A notice that cannot be sent is retried later with a growing
pause (5 s doubling, at most an hour) and never holds up the others.
"""

from __future__ import annotations

import logging

from messenger.bots.courier import Courier
from messenger.bots.runtime import BotRuntime
from messenger.bots.texts import text
from messenger.db.database import Database, now_ms
from messenger.db.stores import chat_requests as store
from messenger.ids import RoomID

log = logging.getLogger(__name__)


class NoticeCourier(Courier):
    def __init__(self, db: Database, default_language: str) -> None:
        super().__init__()
        self._db = db
        self._default_language = default_language

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
        return sent

    async def prune(self, sent_before: int) -> None:
        async with self._db.transaction() as conn:
            await store.prune_notices(conn, sent_before)
