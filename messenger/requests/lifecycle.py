"""Handler: follows chat requests through membership events, whichever client made them.

pending   a patient invited a practice (from any client, or through the service bot)
accepted  the practice joined
declined  the practice rejected the invite (left without joining)
withdrawn the patient rescinded the invite or left the room
expired   nobody answered in time (expiry.py rescinds the invite)

Runs inside the inbox transaction: each change and the notices it causes commit together with
the event being marked processed, so a crash neither loses nor repeats them.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.accounts.roles import name_of, role_of
from messenger.db.stores import accounts as accounts_store
from messenger.db.stores import chat_requests as store
from messenger.db.stores import registry as registry_store
from messenger.ids import Role
from messenger.namespace import BotNamespace
from messenger.rooms.envelope import Envelope
from messenger.rooms.kinds import RoomKind


class ChatRequestTracker:
    def __init__(self, expire_after_ms: int, bots: BotNamespace) -> None:
        self._expire_after_ms = expire_after_ms
        self._bots = bots

    async def apply(self, conn: AsyncConnection, events: list[Envelope]) -> None:
        for event in events:
            if event.type == "m.room.member" and event.state_key:
                await self._membership(conn, event, str(event.content.get("membership")))

    async def _membership(self, conn: AsyncConnection, event: Envelope, membership: str) -> None:
        target = event.state_key or ""
        if membership == "invite":
            await self._invited(conn, event, target)
            return
        request = await store.by_room(conn, event.room_id)
        if request is None or request.state != store.PENDING:
            return
        at = event.origin_server_ts
        if membership == "join" and target == request.practice_id:
            await accept(conn, request, at)
        elif membership in ("leave", "ban") and target == request.practice_id:
            if event.sender == request.practice_id:
                await store.decide(conn, request.id, store.DECLINED, at)
                await tell(conn, request, "request_declined", None, at)
            else:  # the patient (or a moderator) rescinded the invite
                await store.decide(conn, request.id, store.WITHDRAWN, at)
                await tell(conn, request, "request_withdrawn", "request_withdrawn_practice", at)
        elif membership in ("leave", "ban") and target == request.patient_id:
            await store.decide(conn, request.id, store.WITHDRAWN, at, rescind=True)
            await tell(conn, request, "request_withdrawn", "request_withdrawn_practice", at)

    async def _invited(self, conn: AsyncConnection, event: Envelope, practice: str) -> None:
        if await role_of(conn, event.sender, self._bots) != Role.PATIENT.value:
            return
        if await role_of(conn, practice, self._bots) != Role.PRACTICE.value:
            return
        room = await registry_store.get_room(conn, event.room_id)
        if room is not None and room.kind not in (RoomKind.CHAT.value, RoomKind.CARE.value):
            return
        at = event.origin_server_ts
        patient = event.sender
        if not await store.open_request(
            conn, event.room_id, patient, practice, at, at + self._expire_after_ms
        ):
            return
        await store.use_grant(conn, patient, practice)
        request = await store.by_room(conn, event.room_id)
        assert request is not None
        await tell(conn, request, "request_sent", "request_received", at)


async def accept(conn: AsyncConnection, request: store.ChatRequestRow, at: int) -> bool:
    """The practice joined: the request is accepted and its room is a care chat (compare and
    set: False when the request was no longer pending)."""
    if not await store.decide(conn, request.id, store.ACCEPTED, at):
        return False
    await registry_store.set_kind(conn, request.room_id, RoomKind.CARE.value)
    await tell(conn, request, "request_accepted", "care_chat_started", at)
    return True


async def tell(
    conn: AsyncConnection,
    request: store.ChatRequestRow,
    patient_key: str | None,
    practice_key: str | None,
    at: int,
) -> None:
    """Queue notices for the patient and (if it has an account here) the practice."""
    args = {
        "number": str(request.id),
        "practice": await name_of(conn, request.practice_id),
        "patient": await name_of(conn, request.patient_id),
    }
    if patient_key is not None:
        await store.add_notice(conn, request.patient_id, patient_key, args, at)
    if practice_key is not None and await accounts_store.get(conn, request.practice_id):
        await store.add_notice(conn, request.practice_id, practice_key, args, at)
