"""The agents' side of the desk: the queue (claim by command or 👍, unclaim, assign, lists), the
ticket rooms (replies and files to the patient, internal notes, canned replies, close), and
claims that time out.

Claiming is a compare-and-set on the ticket's status, so of two agents claiming at once exactly
one gets it. Each assignment has its own encrypted room with only that agent and the bot; when
the agent joins, the bot shows the ticket so far (patient's messages, earlier replies and
notes), then every new patient message. Only staff (agents, supervisors) are ever invited.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.bots.base import InboundMessage
from messenger.bots.texts import text
from messenger.bridge.errors import HomeserverUnreachable, MatrixError
from messenger.db.database import now_ms
from messenger.db.stores import accounts as accounts_store
from messenger.db.stores import desk as store
from messenger.db.stores.desk import (
    ACTIVE,
    CLAIMED,
    CLOSED,
    OPEN,
    UNANSWERED,
    WAITING,
    AssignmentRow,
    TicketRow,
)
from messenger.desk import rooms
from messenger.desk.commands import DeskCommand, parse_queue, parse_ticket_room
from messenger.desk.content import is_edit, is_media, mxc_of, notice, own_words
from messenger.desk.desk import QUEUE, Desk
from messenger.ids import STAFF, Role, RoomID, UserID

log = logging.getLogger(__name__)
USAGE = {"claim": "nehmen 12", "unclaim": "freigeben 12", "assign": "zuweisen 12 @name:server",
         "note": "!notiz Text"}  # fmt: skip
THUMBS_UP = "👍"


class Queue:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    async def _role(self, conn: AsyncConnection, user: str) -> Role | None:
        account = await accounts_store.get(conn, user)
        return account.role if account else None

    # --- queue room ---------------------------------------------------------------------
    async def on_queue_message(self, room: str, sender: UserID, message: InboundMessage) -> None:
        desk = self._desk
        async with desk.db.reading() as conn:
            role = await self._role(conn, sender)
            language = await desk.language_of(conn, sender)
        if message.event_type == "m.reaction":
            relates = message.content.get("m.relates_to", {})
            if str(relates.get("key", "")).startswith(THUMBS_UP) and role in STAFF:
                await self._claim_by_post(room, sender, str(relates.get("event_id")), language)
            return
        if message.event_type != "m.room.message" or message.msgtype != "m.text":
            return
        command = parse_queue(message.body)
        language = command.language_hint or language
        if role not in STAFF:
            async with desk.db.transaction() as conn:
                await desk.say(conn, room, "desk_not_staff", language)
            return
        await self._queue_command(room, sender, role, command, language)

    async def _queue_command(
        self, room: str, sender: UserID, role: Role, command: DeskCommand, language: str
    ) -> None:
        desk = self._desk
        if command.name == "claim" and command.ticket is not None:
            await self.claim(command.ticket, sender, room, language)
        elif command.name == "unclaim" and command.ticket is not None:
            await self.unclaim(command.ticket, sender, role, room, language)
        elif command.name == "assign" and command.ticket is not None:
            await self.assign(command.ticket, UserID(command.argument), sender, role, room,
                              language)  # fmt: skip
        elif command.name in ("open", "mine"):
            async with desk.db.transaction() as conn:
                if command.name == "open":
                    found = await store.tickets_in(conn, (OPEN,))
                else:
                    found = await store.tickets_in(conn, (OPEN, CLAIMED, WAITING), agent=sender)
                lines = "\n".join(self._line(t, language) for t in found)
                key = f"desk_{command.name}_{'list' if found else 'none'}"
                await desk.say(conn, room, key, language, lines=lines)
        else:
            key = {"help": "desk_queue_help", "usage": "desk_usage"}.get(
                command.name, "desk_unknown_queue"
            )
            async with desk.db.transaction() as conn:
                await desk.say(conn, room, key, language, usage=USAGE.get(command.argument, ""))

    def _line(self, ticket: TicketRow, language: str) -> str:
        desk = self._desk
        return text("desk_ticket_line", language, ticket=str(ticket.id),
                    topic=desk.topic_label(ticket.topic, language),
                    state=text(f"desk_state_{ticket.status}", language),
                    due=desk.due(ticket.due_at if ticket.status in UNANSWERED else None,
                                 language))  # fmt: skip

    async def _claim_by_post(self, room: str, sender: UserID, post: str, language: str) -> None:
        async with self._desk.db.reading() as conn:
            ticket_id = await store.ticket_of_queue_post(conn, post)
        if ticket_id is not None:
            await self.claim(ticket_id, sender, room, language)

    async def claim(self, ticket_id: int, agent: UserID, room: str, language: str) -> None:
        desk = self._desk
        async with desk.db.transaction() as conn:
            ticket = await store.ticket(conn, ticket_id)
            won = ticket is not None and await store.update_ticket(
                conn, ticket_id, only_if=(OPEN,), status=CLAIMED, agent_id=agent
            )
            if not won or ticket is None:
                if ticket is not None and ticket.agent_id is not None:
                    await desk.say(conn, room, "desk_claim_taken", language, ticket=ticket_id,
                                   agent=await desk.name_of(conn, ticket.agent_id))  # fmt: skip
                else:
                    await desk.say(conn, room, "desk_no_ticket", language, ticket=ticket_id)
                return
            assignment = await store.add_assignment(conn, ticket_id, agent, now_ms())
            await desk.mark_claimed_in_queue(conn, ticket, agent)
            await desk.say(conn, room, "desk_claimed", language, ticket=ticket_id,
                           name=self._room_name(ticket, language))  # fmt: skip
        log.info("desk: ticket %d claimed by %s", ticket_id, agent)
        await self.try_open_ticket_room(assignment)

    async def try_open_ticket_room(self, assignment_id: int) -> None:
        """The claim stands even if the room cannot be made now: desk_sla retries it."""
        try:
            await self.open_ticket_room(assignment_id)
        except (MatrixError, HomeserverUnreachable) as error:
            log.warning("desk: ticket room of assignment %d not created yet: %s",
                        assignment_id, error)  # fmt: skip

    def _room_name(self, ticket: TicketRow, language: str) -> str:
        return f"#{ticket.id} {self._desk.topic_label(ticket.topic, language)}"

    async def open_ticket_room(self, assignment_id: int) -> None:
        """Create the assignment's room (also after a crash left it without one)."""
        desk = self._desk
        async with desk.db.reading() as conn:
            assignment = await store.assignment(conn, assignment_id)
            ticket = await store.ticket(conn, assignment.ticket_id) if assignment else None
        if assignment is None or ticket is None or assignment.room_id is not None:
            return
        name = self._room_name(ticket, desk.default_language)
        room = await rooms.create_ticket_room(desk.hs, desk.bot, UserID(assignment.agent_id), name)
        async with desk.db.transaction() as conn:
            await store.update_assignment(conn, assignment_id, room_id=room)

    async def agent_joined(self, room: str, user: UserID) -> None:
        desk = self._desk
        async with desk.db.transaction() as conn:
            assignment = await store.assignment_of_room(conn, room)
            if (assignment is None or assignment.agent_id != user or assignment.joined_at
                    or assignment.ended_at):  # fmt: skip
                return
            ticket = await store.ticket(conn, assignment.ticket_id)
            assert ticket is not None
            await store.update_assignment(conn, assignment.id, joined_at=now_ms())
            language = desk.default_language
            await desk.say(conn, room, "desk_ticket_intro", language, ticket=ticket.id,
                           topic=desk.topic_label(ticket.topic, language),
                           patient=await desk.name_of(conn, ticket.patient_id),
                           due=desk.due(ticket.due_at if ticket.status in UNANSWERED else None,
                                        language))  # fmt: skip
            await desk.mirror_new(conn, ticket.id)

    async def _end(
        self, conn: AsyncConnection, ticket: TicketRow, *, to_queue: bool
    ) -> tuple[str | None, str | None]:
        """End the current assignment (returns its room and agent, for removal after the
        transaction); the ticket is nobody's, back in the queue if it is unanswered."""
        assignment = await store.active_assignment(conn, ticket.id)
        if assignment is not None:
            await store.update_assignment(conn, assignment.id, ended_at=now_ms())
            if assignment.room_id is not None:  # the bot leaves it: nothing more goes there
                await store.drop_unsent(conn, assignment.room_id)
        unanswered = ticket.status in UNANSWERED
        await store.update_ticket(conn, ticket.id, agent_id=None,
                                  status=OPEN if unanswered else ticket.status)  # fmt: skip
        if unanswered and to_queue:
            reopened = await store.ticket(conn, ticket.id)
            assert reopened is not None
            await self._desk.queue_post(conn, reopened, back=True)
        if assignment is None:
            return None, None
        return assignment.room_id, assignment.agent_id

    async def _close_room(self, room: str | None, agent: str | None) -> None:
        if room is None or agent is None:
            return
        desk = self._desk
        with contextlib.suppress(MatrixError, HomeserverUnreachable):
            await rooms.remove_user(desk.hs, desk.bot, RoomID(room), UserID(agent),
                                    "Ticket abgegeben / handed over")  # fmt: skip
        with contextlib.suppress(MatrixError, HomeserverUnreachable):
            await rooms.leave(desk.hs, desk.bot, RoomID(room))

    async def unclaim(
        self, ticket_id: int, by: UserID | None, role: Role | None, reply_room: str | None,
        language: str,
    ) -> None:  # fmt: skip
        """Back to the queue: by its agent, a supervisor, or (by=None) the claim timeout."""
        desk = self._desk
        async with desk.db.transaction() as conn:
            ticket = await store.ticket(conn, ticket_id)
            if ticket is None or ticket.agent_id is None:
                if reply_room:
                    await desk.say(conn, reply_room, "desk_no_ticket", language, ticket=ticket_id)
                return
            if by is not None and by != ticket.agent_id and role is not Role.SUPERVISOR:
                if reply_room:
                    await desk.say(conn, reply_room, "desk_not_holder", language, ticket=ticket_id,
                                   agent=await desk.name_of(conn, ticket.agent_id))  # fmt: skip
                return
            room, agent = await self._end(conn, ticket, to_queue=True)
            queue = await store.desk_room(conn, QUEUE)
            key = "desk_unclaimed" if by is not None else "desk_timed_out"
            for target in {reply_room or queue, queue} - {None, room}:
                assert target is not None
                await desk.say(conn, target, key, language, ticket=ticket_id)
        log.info(
            "desk: ticket %d back in the queue (%s)", ticket_id, "timeout" if by is None else by
        )
        await self._close_room(room, agent)

    async def assign(
        self, ticket_id: int, to: UserID, by: UserID, role: Role, reply_room: str, language: str
    ) -> None:
        desk = self._desk
        async with desk.db.transaction() as conn:
            ticket = await store.ticket(conn, ticket_id)
            if ticket is None or ticket.status not in ACTIVE:
                await desk.say(conn, reply_room, "desk_no_ticket", language, ticket=ticket_id)
                return
            if ticket.agent_id not in (None, by) and role is not Role.SUPERVISOR:
                await desk.say(conn, reply_room, "desk_not_holder", language, ticket=ticket_id,
                               agent=await desk.name_of(conn, ticket.agent_id))  # fmt: skip
                return
            if await self._role(conn, to) not in STAFF:
                await desk.say(conn, reply_room, "desk_assign_not_staff", language, user=to,
                               ticket=ticket_id)  # fmt: skip
                return
            room, agent = await self._end(conn, ticket, to_queue=False)
            status = CLAIMED if ticket.status in UNANSWERED else ticket.status
            await store.update_ticket(conn, ticket_id, agent_id=to, status=status)
            assignment = await store.add_assignment(conn, ticket_id, to, now_ms())
            if ticket.agent_id is None:
                await desk.mark_claimed_in_queue(conn, ticket, to)
            await desk.say(conn, reply_room, "desk_assigned", language, ticket=ticket_id,
                           agent=await desk.name_of(conn, to))  # fmt: skip
        await self._close_room(room, agent)
        await self.try_open_ticket_room(assignment)

    # --- ticket rooms -------------------------------------------------------------------
    async def on_ticket_message(
        self, room: str, sender: UserID, message: InboundMessage, assignment: AssignmentRow
    ) -> None:
        desk = self._desk
        if message.event_type != "m.room.message" or assignment.ended_at is not None:
            return
        async with desk.db.reading() as conn:
            role = await self._role(conn, sender)
            language = await desk.language_of(conn, sender)
        if sender != assignment.agent_id or role not in STAFF:
            async with desk.db.transaction() as conn:
                await desk.say(conn, room, "desk_not_staff", language)
            return
        if is_edit(message.content):  # an edit never goes out (it could turn a note into a reply)
            async with desk.db.transaction() as conn:
                await desk.say(conn, room, "desk_edit_not_sent", language)
            return
        if is_media(message.content):
            await self._reply(
                assignment.ticket_id, sender, room, message, message.content, language
            )
            return
        if message.msgtype != "m.text":
            return
        command = parse_ticket_room(own_words(message.content))
        language = command.language_hint or language
        if command.name == "reply":
            await self._reply(
                assignment.ticket_id, sender, room, message, message.content, language
            )
        elif command.name == "canned":
            reply = desk.config.canned.get(command.argument.lower())
            if reply is None:
                async with desk.db.transaction() as conn:
                    await desk.say(conn, room, "desk_canned_unknown", language,
                                   name=command.argument, names=self._canned(language))  # fmt: skip
                return
            content = {"msgtype": "m.text", "body": reply}
            await self._reply(assignment.ticket_id, sender, room, message, content, language)
        elif command.name == "note":
            async with desk.db.transaction() as conn:
                await self._keep(conn, assignment.ticket_id, sender, room, message, "note",
                                 {"msgtype": "m.text", "body": command.argument})  # fmt: skip
                await desk.say(conn, room, "desk_note_saved", language)
        elif command.name == "close":
            await self.close(assignment.ticket_id, sender, room, message, command.argument,
                             language)  # fmt: skip
        elif command.name == "unclaim":
            await self.unclaim(assignment.ticket_id, sender, role, None, language)
        else:
            key = {"canned_list": "desk_canned_list", "help": "desk_ticket_help",
                   "usage": "desk_usage"}.get(command.name, "desk_unknown_command")  # fmt: skip
            async with desk.db.transaction() as conn:
                await desk.say(conn, room, key, language, names=self._canned(language),
                               usage=USAGE.get(command.argument, ""))  # fmt: skip

    def _canned(self, language: str) -> str:
        names = sorted(self._desk.config.canned)
        return ", ".join(names) if names else text("desk_none", language)

    async def _keep(
        self, conn: AsyncConnection, ticket_id: int, agent: str, room: str,
        message: InboundMessage, kind: str, content: dict[str, Any],
    ) -> None:  # fmt: skip
        await store.add_message(
            conn, ticket_id=ticket_id, event_id=message.event_id, origin_room_id=room,
            author=agent, kind=kind, content=self._desk.seal(content), mxc=mxc_of(content),
            at=message.origin_ts,
        )  # fmt: skip

    async def _reply(
        self, ticket_id: int, agent: UserID, room: str, message: InboundMessage,
        content: dict[str, Any], language: str,
    ) -> None:  # fmt: skip
        """What the patient sees: it stops the clock (the ticket now waits for the patient)."""
        desk = self._desk
        async with desk.db.transaction() as conn:
            if await store.message_known(conn, message.event_id):
                return
            ticket = await store.ticket(conn, ticket_id)
            assert ticket is not None
            if ticket.status == CLOSED:
                await desk.say(conn, room, "desk_ticket_is_closed", language, ticket=ticket_id)
                return
            await self._keep(conn, ticket_id, agent, room, message, "reply", content)
            await desk.relay_to_patient(conn, ticket, agent, content)
            await self._answered(conn, ticket, message.origin_ts, WAITING)

    async def _answered(
        self, conn: AsyncConnection, ticket: TicketRow, at: int, status: str, **values: Any
    ) -> None:
        late = ticket.status in UNANSWERED and ticket.due_at is not None and at > ticket.due_at
        await store.update_ticket(
            conn, ticket.id, status=status, next_reminder_at=None, last_activity_at=at,
            first_response_at=ticket.first_response_at or at,
            breached_at=ticket.breached_at or (ticket.due_at if late else None), **values,
        )  # fmt: skip

    async def close(
        self, ticket_id: int, agent: UserID, room: str, message: InboundMessage, note: str,
        language: str,
    ) -> None:  # fmt: skip
        desk = self._desk
        async with desk.db.transaction() as conn:
            ticket = await store.ticket(conn, ticket_id)
            if (
                ticket is None
                or ticket.status == CLOSED
                or await store.message_known(conn, message.event_id)
            ):
                return
            patient_language = await desk.language_of(conn, ticket.patient_id)
            body = text("desk_closed", patient_language, ticket=str(ticket_id),
                        note=f"\n\n{note}" if note else "")  # fmt: skip
            await self._keep(conn, ticket_id, agent, room, message, "closing", notice(body))
            await desk.post(conn, ticket.channel_room_id, notice(body), ticket_id)
            await self._answered(conn, ticket, message.origin_ts, CLOSED, closed_at=now_ms())
            await desk.say(conn, room, "desk_closed_agent", language, ticket=ticket_id)
        log.info("desk: ticket %d closed", ticket_id)
