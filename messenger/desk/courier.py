"""The desk courier: sends the desk's outbox (confirmations, queue posts, mirrors, relays,
reminders) as the desk bot, each row with its own transaction id — a crash between sending and
marking resends with the same id, which the homeserver answers with the event it has. Rows of
one room go out in order; a row that fails waits (5 s doubling, at most an hour) and holds up
only its own room."""

from __future__ import annotations

import logging
from typing import Any

from messenger.bots.courier import Courier
from messenger.bots.runtime import BotRuntime
from messenger.bots.texts import text
from messenger.db.database import now_ms
from messenger.db.stores import desk as store
from messenger.desk.content import notice
from messenger.desk.desk import QUEUE_POST, Desk
from messenger.desk.transcript import TRANSCRIPT, transcript_message
from messenger.ids import RoomID

log = logging.getLogger(__name__)
TRANSCRIPT_TRIES = 4


class DeskCourier(Courier):
    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self._desk = desk

    async def send_pending(self, runtime: BotRuntime) -> int:
        desk = self._desk
        async with desk.db.reading() as conn:
            pending = await store.unsent(conn, now_ms())
        sent = 0
        failed: set[str] = set()
        for row in pending:
            if row.room_id in failed:
                continue  # keep the room's order
            try:
                content = desk.open(row.content)
                if row.purpose == TRANSCRIPT:  # made now, from the channel as it is
                    content = await self._transcript(runtime, row, content["transcript"])
                event_id = await runtime.send(RoomID(row.room_id), content, txn_id=f"desk-{row.id}")
            except Exception as error:
                failed.add(row.room_id)
                async with desk.db.transaction() as conn:
                    delay = await store.postpone(conn, row.id, row.attempts, now_ms())
                log.warning("desk outbox %d not sent (%s); next try in %d s", row.id, error,
                            delay // 1000)  # fmt: skip
                continue
            async with desk.db.transaction() as conn:
                await store.mark_sent(conn, row.id, event_id, now_ms())
                if row.purpose == QUEUE_POST and row.ticket_id is not None:
                    await store.update_ticket(conn, row.ticket_id, queue_event_id=event_id)
                    ticket = await store.ticket(conn, row.ticket_id)
                    if ticket is not None and ticket.agent_id is not None:  # claimed meanwhile
                        await desk.mark_claimed_in_queue(conn, ticket, ticket.agent_id)
            sent += 1
        return sent

    async def _transcript(
        self, runtime: BotRuntime, row: store.OutboxRow, wanted: dict[str, Any]
    ) -> dict[str, Any]:
        """The file; after its last try, the notice that it could not be made instead."""
        try:
            return await transcript_message(
                runtime, row.room_id, wanted, self._desk.config.timezone
            )
        except Exception:
            if row.attempts + 1 < TRANSCRIPT_TRIES:
                raise
            log.exception("desk: transcript %d given up after %d tries", row.id, TRANSCRIPT_TRIES)
            return notice(text("desk_export_failed", str(wanted.get("language", "de"))))

    async def prune(self, sent_before: int) -> None:
        """Sent rows, and handled-event marks, a week old (a replay comes within minutes)."""
        async with self._desk.db.transaction() as conn:
            await store.prune_outbox(conn, sent_before)
            await store.prune_seen(conn, sent_before)
