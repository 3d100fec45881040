"""The SLA watch (job `desk_sla`, every `desk.check_every`): reminders at the configured points
of the SLA to the assigned agent (or the queue), escalation to the supervisors at the due time,
and claims nobody answered within `desk.claim_timeout` back to the queue. Every step is recorded
on the ticket in the transaction that queues its message, so a rerun repeats nothing."""

from __future__ import annotations

from dataclasses import dataclass

from messenger.config import duration_ms
from messenger.db.stores import desk as store
from messenger.desk.desk import QUEUE, SUPERVISORS, Desk
from messenger.desk.queue import Queue
from messenger.desk.sla import reminder_after

BATCH = 500


@dataclass
class SlaRun:
    reminded: int = 0
    escalated: int = 0
    returned: int = 0

    def as_json(self) -> dict[str, int]:
        return {"reminded": self.reminded, "escalated": self.escalated, "returned": self.returned}


class SlaWatch:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    async def run(self, now: int) -> SlaRun:
        result = SlaRun()
        await self._reminders(now, result)
        await self._breaches(now, result)
        await self._claim_timeouts(now, result)
        await self._missing_rooms(now)
        return result

    async def _missing_rooms(self, now: int) -> None:
        """Ticket rooms a failed call left out (claims older than a minute without a room)."""
        async with self._desk.db.reading() as conn:
            roomless = await store.assignments_without_room(conn)
        queue = Queue(self._desk)
        for assignment in roomless:
            if assignment.created_at < now - 60_000:
                await queue.try_open_ticket_room(assignment.id)

    async def _reminders(self, now: int, result: SlaRun) -> None:
        desk = self._desk
        language = desk.default_language
        async with desk.db.reading() as conn:  # the usual case, nothing due: no write lock
            if not await store.reminders_due(conn, now, 1):
                return
        async with desk.db.transaction() as conn:
            for ticket in await store.reminders_due(conn, now, BATCH):
                assert ticket.clock_started_at is not None
                sent = ticket.reminders_sent + 1
                sla = desk.sla_ms(desk.topics.get(ticket.topic or ""))
                later = reminder_after(desk.calendar, ticket.clock_started_at, sla,
                                       desk.config.remind_at, sent)  # fmt: skip
                await store.update_ticket(conn, ticket.id, reminders_sent=sent,
                                          next_reminder_at=later)  # fmt: skip
                assignment = await store.active_assignment(conn, ticket.id)
                room = (assignment.room_id if assignment and assignment.joined_at else None) or (
                    await store.desk_room(conn, QUEUE)
                )
                if room is not None:
                    await desk.say(conn, room, "desk_reminder", language, ticket=ticket.id,
                                   topic=desk.topic_label(ticket.topic, language),
                                   due=desk.due(ticket.due_at, language))  # fmt: skip
                result.reminded += 1

    async def _breaches(self, now: int, result: SlaRun) -> None:
        desk = self._desk
        language = desk.default_language
        async with desk.db.reading() as conn:
            if not await store.breaches_due(conn, now, 1):
                return
        async with desk.db.transaction() as conn:
            supervisors = await store.desk_room(conn, SUPERVISORS)
            for ticket in await store.breaches_due(conn, now, BATCH):
                breached = ticket.breached_at or ticket.due_at
                await store.update_ticket(conn, ticket.id, escalated_at=now, breached_at=breached)
                if supervisors is not None:
                    await desk.say(conn, supervisors, "desk_escalation", language,
                                   ticket=ticket.id, topic=desk.topic_label(ticket.topic, language),
                                   due=desk.due(ticket.due_at, language),
                                   agent=await desk.name_of(conn, ticket.agent_id))  # fmt: skip
                result.escalated += 1

    async def _claim_timeouts(self, now: int, result: SlaRun) -> None:
        desk = self._desk
        cutoff = now - duration_ms(desk.config.claim_timeout)
        async with desk.db.reading() as conn:
            stale = await store.claims_timed_out(conn, cutoff, BATCH)
        queue = Queue(desk)
        for ticket_id in stale:
            await queue.unclaim(ticket_id, None, None, None, desk.default_language)
            result.returned += 1
