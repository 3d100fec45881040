"""The patient's side of the desk: greeting with the topic menu, picking a concern (number,
name or poll answer), messages becoming tickets, confirmations with the due time, reopening.

Every patient message is stored (content sealed) with its event id, so a message the bot's sync
replays after a crash is recognised and not taken twice.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.bots.base import InboundMessage
from messenger.bots.runtime import POLL_RESPONSES, BotRuntime
from messenger.bots.texts import text
from messenger.config import DeskTopic, duration_ms
from messenger.db.database import now_ms
from messenger.db.stores import accounts as accounts_store
from messenger.db.stores import desk as store
from messenger.db.stores.desk import CLAIMED, CLOSED, DRAFT, OPEN, WAITING, ChannelRow, TicketRow
from messenger.desk import transcript
from messenger.desk.commands import parse_channel, pick_topic
from messenger.desk.content import (
    is_edit,
    is_media,
    mxc_of,
    poll_answer,
    topic_menu,
    topic_poll,
)
from messenger.desk.desk import Desk
from messenger.ids import RoomID, UserID, localpart

log = logging.getLogger(__name__)
NEW_CONCERN = "*"  # pending_topic while a further concern waits for its topic


class Intake:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    async def greet(self, runtime: BotRuntime, channel: ChannelRow) -> None:
        """Once per channel: the welcome with the topic menu, and the same menu as a poll."""
        desk = self._desk
        async with desk.db.reading() as conn:
            language = await desk.language_of(conn, channel.patient_id)
        topics = desk.config.topics
        body = text("desk_greeting", language, insurer=desk.insurer,
                    sla=desk.sla_words(language), menu=topic_menu(topics, language))  # fmt: skip
        tag = localpart(channel.patient_id)
        room = RoomID(channel.room_id)
        await runtime.send_notice(room, body, txn_id=f"desk-greeting-{tag}")
        poll = await runtime.send(
            room, topic_poll(topics, language, text("desk_poll_question", language)),
            txn_id=f"desk-poll-{tag}", event_type="org.matrix.msc3381.poll.start",
        )  # fmt: skip
        async with desk.db.transaction() as conn:
            await store.update_channel(
                conn, channel.patient_id, greeted_at=now_ms(), menu_event_id=poll
            )

    async def on_message(self, channel: ChannelRow, message: InboundMessage) -> None:
        desk = self._desk
        async with desk.db.transaction() as conn:
            if not await store.first_sight(conn, message.event_id, now_ms()):
                return  # replayed after a crash: handled already (with everything it did)
            language = await desk.language_of(conn, channel.patient_id)
            if message.event_type in POLL_RESPONSES:
                _poll, answer = poll_answer(message.content)
                topic = desk.topics.get(answer or "")
                if topic is not None:
                    await self._chosen(conn, channel, topic, language)
                return
            if (
                message.event_type != "m.room.message"
                or not (message.msgtype == "m.text" or is_media(message.content))
                or is_edit(message.content)
            ):
                return  # reactions, notices; edits (the agent has the message as first sent)
            if message.msgtype == "m.text":
                command = parse_channel(message.body)
                if command.name == "topics":
                    menu = topic_menu(desk.config.topics, command.language_hint or language)
                    await desk.say(conn, channel.room_id, "desk_menu",
                                   command.language_hint or language, menu=menu)  # fmt: skip
                    return
                if command.name == "new":  # the next message starts another ticket
                    await store.update_channel(conn, channel.patient_id, pending_topic=NEW_CONCERN)
                    menu = topic_menu(desk.config.topics, command.language_hint or language)
                    await desk.say(conn, channel.room_id, "desk_menu",
                                   command.language_hint or language, menu=menu)  # fmt: skip
                    return
                if command.name == "export":
                    asked = command.language_hint or language
                    await desk.say(conn, channel.room_id, "desk_export_started", asked,
                                   format=command.argument.upper())  # fmt: skip
                    await desk.post(conn, channel.room_id,
                                    transcript.request(command.argument, asked, channel.patient_id),
                                    purpose=transcript.TRANSCRIPT)  # fmt: skip
                    return
                if command.name == "language":
                    await accounts_store.set_language(
                        conn, UserID(channel.patient_id), command.argument
                    )
                    await desk.say(conn, channel.room_id, "desk_language_set", command.argument)
                    return
            await self._take(conn, channel, message, language)

    async def _chosen(
        self, conn: AsyncConnection, channel: ChannelRow, topic: DeskTopic, language: str
    ) -> None:
        latest = await store.latest_ticket(conn, channel.patient_id)
        if latest is not None and latest.status == DRAFT:
            await self._open(conn, latest, topic.key, language, back=False)
            return
        await store.update_channel(conn, channel.patient_id, pending_topic=topic.key)
        await self._desk.say(conn, channel.room_id, "desk_topic_chosen", language,
                             topic=self._desk.topic_label(topic.key, language))  # fmt: skip

    def _current(self, latest: TicketRow | None, now: int) -> TicketRow | None:
        """The ticket a new message belongs to: the last one unless it is closed (and, if
        configured, reopened only within the reopen window)."""
        if latest is None or latest.status != CLOSED:
            return latest
        cfg = self._desk.config
        recent = now - (latest.closed_at or 0) <= duration_ms(cfg.reopen_within)
        return latest if cfg.after_close == "reopen" and recent else None

    async def _take(
        self, conn: AsyncConnection, channel: ChannelRow, message: InboundMessage, language: str
    ) -> None:
        desk = self._desk
        at = message.origin_ts
        latest = await store.latest_ticket(conn, channel.patient_id)
        fresh = channel.pending_topic is not None and (latest is None or latest.status != DRAFT)
        current = None if fresh else self._current(latest, now_ms())
        if current is None or current.status == DRAFT:
            topic = (
                pick_topic(message.body, desk.config.topics)
                if message.msgtype == "m.text"
                else None
            )
            if topic is not None:
                await self._chosen(conn, channel, topic, language)
                return
            if current is None:
                ticket_id = await store.create_ticket(
                    conn, patient_id=channel.patient_id, channel_room_id=channel.room_id,
                    status=DRAFT, created_at=at, last_activity_at=at,
                )  # fmt: skip
                current = await store.ticket(conn, ticket_id)
                assert current is not None
                await self._store(conn, current, channel, message)
                if channel.pending_topic in (None, NEW_CONCERN):
                    menu = topic_menu(desk.config.topics, language)
                    await desk.say(conn, channel.room_id, "desk_topic_needed", language, menu=menu)
                    return
                await self._open(conn, current, channel.pending_topic, language, back=False)
                return
            await self._store(conn, current, channel, message)  # one more line of the draft
            return
        await self._store(conn, current, channel, message)
        if current.status in (OPEN, CLAIMED):
            await desk.mirror_new(conn, current.id)  # the clock runs already
            return
        await self._restart(conn, current, at, language)

    async def _store(
        self, conn: AsyncConnection, ticket: TicketRow, channel: ChannelRow,
        message: InboundMessage,
    ) -> None:  # fmt: skip
        await store.add_message(
            conn, ticket_id=ticket.id, event_id=message.event_id, origin_room_id=channel.room_id,
            author=channel.patient_id, kind="patient", content=self._desk.seal(message.content),
            mxc=mxc_of(message.content), at=message.origin_ts,
        )  # fmt: skip
        await store.update_ticket(conn, ticket.id, last_activity_at=message.origin_ts)

    async def _open(
        self, conn: AsyncConnection, ticket: TicketRow, topic: str, language: str, back: bool
    ) -> None:
        """A draft gets its topic: into the queue, the clock from its first message."""
        desk = self._desk
        clock = desk.clock(topic, ticket.created_at)
        await store.update_ticket(
            conn, ticket.id, topic=topic, status=OPEN, opened_at=now_ms(),
            clock_started_at=clock.started_at, due_at=clock.due_at, first_due_at=clock.due_at,
            next_reminder_at=clock.next_reminder_at,
        )  # fmt: skip
        await store.update_channel(conn, ticket.patient_id, pending_topic=None)
        await desk.say(conn, ticket.channel_room_id, "desk_received", language,
                       ticket=ticket.id, topic=desk.topic_label(topic, language),
                       due=desk.due(clock.due_at, language))  # fmt: skip
        opened = await store.ticket(conn, ticket.id)
        assert opened is not None
        await desk.queue_post(conn, opened, back)
        log.info("desk: ticket %d opened (%s)", ticket.id, topic)

    async def _restart(
        self, conn: AsyncConnection, ticket: TicketRow, at: int, language: str
    ) -> None:
        """The patient writes again on an answered (waiting) or a closed ticket: the clock
        starts again; with its agent still assigned the ticket stays theirs, else it goes
        back to the queue."""
        desk = self._desk
        clock = desk.clock(ticket.topic, at)
        assignment = await store.active_assignment(conn, ticket.id)
        status = CLAIMED if assignment is not None else OPEN
        await store.update_ticket(
            conn, ticket.id, status=status, closed_at=None, clock_started_at=clock.started_at,
            due_at=clock.due_at, next_reminder_at=clock.next_reminder_at, reminders_sent=0,
            escalated_at=None,
        )  # fmt: skip
        await desk.say(conn, ticket.channel_room_id, "desk_received_again", language,
                       ticket=ticket.id, due=desk.due(clock.due_at, language))  # fmt: skip
        restarted = await store.ticket(conn, ticket.id)
        assert restarted is not None
        if assignment is not None and assignment.room_id is not None:
            if ticket.status == CLOSED:
                await desk.say(conn, assignment.room_id, "desk_reopened", desk.default_language,
                               ticket=ticket.id, due=desk.due(clock.due_at,
                                                              desk.default_language))  # fmt: skip
            await desk.mirror_new(conn, ticket.id)
        else:
            await desk.queue_post(conn, restarted, back=True)
        if ticket.status == WAITING:
            log.info("desk: ticket %d answered by the patient; clock restarted", ticket.id)
