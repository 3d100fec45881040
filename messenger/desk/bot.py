"""The desk bot: the insurer's identity in every patient's insurer channel, and the queue keeper
in the staff rooms. It routes each event by the room it arrives in; the rules live in Intake
(patients) and Queue (staff)."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from messenger.bots.base import Bot, InboundMessage
from messenger.bots.runtime import BotRuntime
from messenger.bots.texts import text
from messenger.bridge.errors import HomeserverUnreachable, MatrixError
from messenger.db.database import now_ms
from messenger.db.stores import desk as store
from messenger.db.stores.desk import OPEN, AssignmentRow, ChannelRow
from messenger.desk import rooms
from messenger.desk.courier import DeskCourier
from messenger.desk.desk import QUEUE, SUPERVISORS, Desk
from messenger.desk.intake import Intake
from messenger.desk.queue import Queue
from messenger.ids import Role, RoomID, UserID

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    kind: str | None  # channel | queue | ticket | None (not a desk room)
    channel: ChannelRow | None = None
    assignment: AssignmentRow | None = None


STAFF_ROOMS = {
    QUEUE: (Role.AGENT.value, Role.SUPERVISOR.value),
    SUPERVISORS: (Role.SUPERVISOR.value,),
}
ROOM_NAMES = {QUEUE: "Kundenservice – Warteschlange", SUPERVISORS: "Kundenservice – Teamleitung"}


class DeskBot(Bot):
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.intake = Intake(desk)
        self.queue = Queue(desk)
        self.courier = DeskCourier(desk)

    async def stop(self) -> None:
        await self.courier.stop()

    async def on_ready(self, runtime: BotRuntime) -> None:
        """Start the courier; make the staff rooms and invite staff missing from them; create
        ticket rooms a crash left out; greet channels that joined while the bot was down."""
        self.courier.start(runtime, "desk outbox")
        await self.ensure_staff_rooms(runtime)
        async with self.desk.db.reading() as conn:
            roomless = await store.assignments_without_room(conn)
            channels = await store.ungreeted_channels(conn)
        for assignment in roomless:
            try:
                await self.queue.open_ticket_room(assignment.id)
            except (MatrixError, HomeserverUnreachable):
                log.exception("desk: ticket room for assignment %d not created", assignment.id)

        for channel in channels:
            joined = runtime.is_joined(RoomID(channel.room_id), UserID(channel.patient_id))
            if joined:
                await self.intake.greet(runtime, channel)

    async def ensure_staff_rooms(self, runtime: BotRuntime | None = None) -> None:
        """The queue and supervisors' room, made when missing - also when the homeserver no
        longer has one (deleted by an operator, or by the cleanup of never-used rooms before
        it spared bot rooms): without them no agent could be invited."""
        desk = self.desk
        async with desk.db.reading() as conn:
            known = {name: await store.desk_room(conn, name) for name in STAFF_ROOMS}
        gone = await self._gone([RoomID(room) for room in known.values() if room is not None])
        for name, roles in STAFF_ROOMS.items():
            async with desk.db.reading() as conn:
                people = [UserID(u) for u in await store.staff(conn, roles)]
            room = known[name]
            if room is not None and RoomID(room) in gone:
                log.warning("desk: the %s room %s is gone from the homeserver; making a new "
                            "one", name, room)  # fmt: skip
            if room is None or RoomID(room) in gone:
                await self._make_staff_room(name, people, room)
                continue
            for person in people:
                if runtime is not None and runtime.is_member(RoomID(room), person):
                    continue
                with contextlib.suppress(MatrixError):  # already in, or invited
                    await rooms.invite_user(desk.hs, desk.bot, RoomID(room), person)
        log.info("desk: staff rooms checked")

    async def _make_staff_room(self, name: str, people: list[UserID], old: str | None) -> None:
        """A new staff room; a new queue in place of a deleted one gets what the old one still
        had to receive, and every ticket waiting to be claimed is posted there again."""
        desk = self.desk
        made = await rooms.create_staff_room(desk.hs, desk.bot, ROOM_NAMES[name], people)
        async with desk.db.transaction() as conn:
            await store.set_desk_room(conn, name, made, now_ms())
            if old is not None:
                await store.drop_unsent(conn, old)
            if name == QUEUE and old is not None:
                waiting = await store.tickets_in(conn, (OPEN,), limit=100_000)
                await store.forget_queue_posts(conn)
                for ticket in waiting:
                    await desk.queue_post(conn, ticket, back=False)
        log.info("desk: %s room %s created", name, made)
        self.courier.wake()

    async def _gone(self, staff_rooms: list[RoomID]) -> set[RoomID]:
        """The staff rooms the homeserver no longer has; none when it cannot say (then nothing
        is taken for gone)."""
        if not staff_rooms:
            return set()
        try:
            checked = await rooms.gone_rooms(
                self.desk.hs, self.desk.bot, self.desk.admin_token, staff_rooms
            )
        except (MatrixError, HomeserverUnreachable) as error:
            log.warning("desk: could not tell whether the staff rooms still exist: %s", error)
            return set()
        return checked.gone  # the undecided are asked again at the next start

    async def _route(self, room: RoomID) -> Route:
        """What a room is to the desk, with its row (one lookup per event)."""
        async with self.desk.db.reading() as conn:
            channel = await store.channel_of_room(conn, room)
            if channel is not None:
                return Route("channel", channel=channel)
            if await store.desk_room(conn, QUEUE) == room:
                return Route(QUEUE)
            assignment = await store.assignment_of_room(conn, room)
        return Route("ticket", assignment=assignment) if assignment else Route(None)

    async def on_join(self, runtime: BotRuntime, room_id: RoomID, user: UserID) -> None:
        route = await self._route(room_id)
        channel = route.channel
        if channel is not None and channel.patient_id == user and channel.greeted_at is None:
            await self.intake.greet(runtime, channel)
        elif route.kind == "ticket":
            await self.queue.agent_joined(room_id, user)
            self.courier.wake()

    async def on_message(
        self, runtime: BotRuntime, room_id: RoomID, sender: UserID, message: InboundMessage
    ) -> None:
        route = await self._route(room_id)
        if route.channel is not None and route.channel.patient_id == sender:
            await self.intake.on_message(route.channel, message)
        elif route.kind == QUEUE:
            await self.queue.on_queue_message(room_id, sender, message)
        elif route.assignment is not None:
            await self.queue.on_ticket_message(room_id, sender, message, route.assignment)
        self.courier.wake()

    async def on_undecryptable(self, runtime: BotRuntime, room_id: RoomID, sender: UserID) -> None:
        """The sender is asked to send again (a patient in their channel, an agent in a ticket
        room: their words would otherwise not reach the other side)."""
        if (await self._route(room_id)).kind is not None:
            async with self.desk.db.reading() as conn:
                language = await self.desk.language_of(conn, sender)
            await runtime.send_notice(room_id, text("undecryptable", language))
