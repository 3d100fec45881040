"""What the desk's parts share: settings, the SLA calendar, sealed content, and the writes every
part makes — outbox rows, queue posts, mirrors into the ticket room, relays to the patient.

Everything the desk sends goes through `desk_outbox`, written in the same transaction as the
change it belongs to, and is sent by the DeskCourier with a transaction id per row — so a crash
neither loses nor doubles a message.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.accounts.roles import name_of
from messenger.bots.texts import text
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.config import DeskSection, DeskTopic, duration_ms
from messenger.db.database import Database, now_ms
from messenger.db.stores import accounts as accounts_store
from messenger.db.stores import desk as store
from messenger.db.stores.desk import MessageRow, TicketRow
from messenger.desk.content import forwarded, is_media, notice, preview
from messenger.desk.sla import Clock, SlaCalendar, start_clock
from messenger.desk.texts import format_due
from messenger.ids import UserID
from messenger.secretbox import SecretBox
from messenger.settings import Settings

QUEUE, SUPERVISORS = "queue", "supervisors"
QUEUE_POST, MESSAGE = "queue_post", "message"


@dataclass
class Desk:
    db: Database
    hs: HomeserverClient
    admin_token: Callable[[], Awaitable[str]]
    bot: UserID
    config: DeskSection
    insurer: str
    default_language: str
    box: SecretBox

    def __post_init__(self) -> None:
        cfg = self.config
        self.calendar = SlaCalendar(cfg.business_hours, cfg.holidays, cfg.timezone)
        self.topics = {topic.key: topic for topic in cfg.topics}

    # --- words --------------------------------------------------------------------------
    def topic_label(self, key: str | None, language: str) -> str:
        topic = self.topics.get(key or "")
        if topic is None:
            return "–"
        return topic.en if language == "en" else topic.de

    def due(self, at: int | None, language: str) -> str:
        return format_due(at, language, self.config.timezone)

    def sla_ms(self, topic: DeskTopic | None) -> int:
        return duration_ms((topic.sla if topic else None) or self.config.sla)

    def sla_words(self, language: str) -> str:
        hours = self.sla_ms(None) / 3_600_000
        shown = str(int(hours)) if hours == int(hours) else f"{hours:.1f}"
        return text("desk_hours", language, hours=shown)

    def clock(self, topic_key: str | None, started_at: int) -> Clock:
        topic = self.topics.get(topic_key or "")
        return start_clock(self.calendar, started_at, self.sla_ms(topic), self.config.remind_at)

    async def language_of(self, conn: AsyncConnection, user: str) -> str:
        account = await accounts_store.get(conn, user)
        return (account.language if account else None) or self.default_language

    async def name_of(self, conn: AsyncConnection, user: str | None) -> str:
        if user is None:
            return text("desk_nobody", self.default_language)
        return await name_of(conn, user)

    async def first_name(self, conn: AsyncConnection, user: str) -> str:
        return (await self.name_of(conn, user)).split()[0]

    # --- content ------------------------------------------------------------------------
    def seal(self, content: dict[str, Any]) -> str:
        return self.box.seal(json.dumps(content, ensure_ascii=False))

    def open(self, sealed: str) -> dict[str, Any]:
        value = json.loads(self.box.open(sealed))
        assert isinstance(value, dict)
        return value

    # --- writes (all inside the caller's transaction) ------------------------------------
    async def post(
        self, conn: AsyncConnection, room: str, content: dict[str, Any],
        ticket_id: int | None = None, purpose: str = MESSAGE,
    ) -> None:  # fmt: skip
        await store.enqueue(conn, room, self.seal(content), purpose, ticket_id, now_ms())

    async def say(
        self, conn: AsyncConnection, room: str, key: str, language: str, **values: Any
    ) -> None:
        words = {name: str(value) for name, value in values.items()}
        await self.post(conn, room, notice(text(key, language, **words)))

    async def queue_post(self, conn: AsyncConnection, ticket: TicketRow, back: bool) -> None:
        """The ticket's entry in the queue room (its event id is kept for 👍 and the edit)."""
        room = await store.desk_room(conn, QUEUE)
        if room is None:
            return
        language = self.default_language
        first = await store.first_message(conn, ticket.id)
        shown = ""
        if first is not None:
            content = self.open(first.content)
            shown = preview(content)
            if is_media(content):
                shown = text("desk_file", language, name=shown)
        body = text(
            "desk_queue_post", language,
            headline=text("desk_headline_back" if back else "desk_headline_new", language),
            ticket=str(ticket.id), topic=self.topic_label(ticket.topic, language),
            due=self.due(ticket.due_at, language), preview=shown,
        )  # fmt: skip
        await store.update_ticket(conn, ticket.id, queue_event_id=None)  # the new post, once sent
        await self.post(conn, room, notice(body), ticket.id, QUEUE_POST)

    async def mark_claimed_in_queue(
        self, conn: AsyncConnection, ticket: TicketRow, agent: str
    ) -> None:
        """Edit the queue entry: it no longer invites anybody to claim it."""
        room = await store.desk_room(conn, QUEUE)
        if room is None or ticket.queue_event_id is None:
            return
        language = self.default_language
        body = text("desk_queue_claimed", language, ticket=str(ticket.id),
                    topic=self.topic_label(ticket.topic, language),
                    agent=await self.name_of(conn, agent))  # fmt: skip
        await self.post(conn, room, {
            "msgtype": "m.notice", "body": f"* {body}",
            "m.new_content": notice(body),
            "m.relates_to": {"rel_type": "m.replace", "event_id": ticket.queue_event_id},
        }, ticket.id)  # fmt: skip

    async def mirror_new(self, conn: AsyncConnection, ticket_id: int) -> None:
        """Send the ticket's messages the current agent's room has not shown yet (once the
        agent is in the room)."""
        assignment = await store.active_assignment(conn, ticket_id)
        if assignment is None or assignment.room_id is None or assignment.joined_at is None:
            return
        rows = await store.messages(conn, ticket_id, after=assignment.mirrored_upto)
        for row in rows:
            if row.origin_room_id != assignment.room_id:
                await self.post(
                    conn, assignment.room_id, await self._mirrored(conn, row), ticket_id
                )
        if rows:
            await store.update_assignment(conn, assignment.id, mirrored_upto=rows[-1].id)

    async def _mirrored(self, conn: AsyncConnection, row: MessageRow) -> dict[str, Any]:
        language = self.default_language
        content = self.open(row.content)
        name = await self.name_of(conn, row.author)
        key = {"patient": "desk_mirror_patient", "note": "desk_mirror_note"}.get(
            row.kind, "desk_mirror_reply"
        )
        return forwarded(content, text(key, language, name=name))

    async def relay_to_patient(
        self, conn: AsyncConnection, ticket: TicketRow, agent: str, content: dict[str, Any]
    ) -> None:
        """The agent's message as the insurer sends it (with the agent's first name if so
        configured)."""
        prefix = None
        if self.config.agent_names == "first_name":
            prefix = await self.first_name(conn, agent)
        await self.post(conn, ticket.channel_room_id, forwarded(content, prefix), ticket.id)


def build_desk(
    settings: Settings, db: Database, hs: HomeserverClient,
    admin_token: Callable[[], Awaitable[str]],
) -> Desk:  # fmt: skip
    cfg = settings.config
    return Desk(
        db=db, hs=hs, admin_token=admin_token, bot=cfg.bot_user_id(cfg.bots.desk),
        config=cfg.desk, insurer=cfg.desk_name, default_language=cfg.default_language,
        box=SecretBox(settings.secrets.pickle_key),
    )  # fmt: skip
