"""The service bot's chat-request commands: request a hit, list, withdraw; access codes."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from messenger.accounts.roles import name_of
from messenger.bots.commands import Command
from messenger.bots.runtime import BotRuntime
from messenger.bots.texts import REQUEST_STATES, text
from messenger.db.database import Database
from messenger.db.stores import accounts as accounts_store
from messenger.db.stores import chat_requests as store
from messenger.db.stores import directory as directory_store
from messenger.db.stores.accounts import AccountRow
from messenger.db.stores.directory import ProviderRow
from messenger.ids import Role, RoomID, UserID
from messenger.requests.codes import CodeFormatError
from messenger.requests.handler import ChatRequestHandler, RequestRefused

log = logging.getLogger(__name__)
BERLIN = ZoneInfo("Europe/Berlin")


class RequestCommands:
    def __init__(self, db: Database, requests: ChatRequestHandler) -> None:
        self._db = db
        self._requests = requests
        self._hits: dict[RoomID, dict[int, str]] = {}  # hit number shown in a room -> Matrix ID

    def remember_hits(self, room: RoomID, first: int, matrix_ids: list[str]) -> None:
        """What a search page showed, numbered from `first`; a new search (first == 1)
        replaces the earlier numbers, "mehr" adds to them."""
        shown = self._hits.setdefault(room, {}) if first > 1 else {}
        shown.update({first + i: matrix_id for i, matrix_id in enumerate(matrix_ids)})
        self._hits[room] = shown

    async def handle(
        self, runtime: BotRuntime, room: RoomID, owner: AccountRow, command: Command, lang: str
    ) -> None:
        practice = owner.role is Role.PRACTICE
        if command.name == "request" and not practice:
            await self._request(runtime, room, owner, int(command.argument), command.detail, lang)
        elif command.name == "requests":
            await self._list(runtime, room, owner, lang)
        elif command.name == "withdraw" and not practice:
            await self._withdraw(runtime, room, owner, int(command.argument), lang)
        elif command.name == "code" and practice:
            await self._issue(runtime, room, owner, command.argument, lang)
        elif command.name == "code":
            await self._redeem(runtime, room, owner, command.argument, lang)
        else:
            await runtime.send_notice(room, text("unknown_command", lang))

    async def _request(
        self, runtime: BotRuntime, room: RoomID, owner: AccountRow, number: int, reason: str,
        lang: str,
    ) -> None:  # fmt: skip
        practice = self._hits.get(room, {}).get(number)
        if practice is None:
            await runtime.send_notice(room, text("request_no_hit", lang, number=str(number)))
            return
        try:
            await self._requests.request(owner.user_id, UserID(practice))
        except RequestRefused as refused:
            await runtime.send_notice(room, text(refused.key, lang, reason=refused.reason))
            return
        log.info("chat request by %s sent through the service bot", owner.user_id)
        if reason.strip():
            await self._forward_reason(runtime, owner, practice, reason.strip())
        # the confirmation ("request_sent") follows as a notice once the invite is seen

    async def _forward_reason(
        self, runtime: BotRuntime, owner: AccountRow, practice: str, reason: str
    ) -> None:
        """The reason goes straight to the practice's encrypted service room; it is never
        stored (it is the patient's words)."""
        async with self._db.reading() as conn:
            account = await accounts_store.get(conn, practice)
        if account is None or account.service_room_id is None:
            return
        body = text("request_reason", account.language or "de", patient=owner.display_name,
                    reason=reason[:1000])  # fmt: skip
        await runtime.send_notice(account.service_room_id, body)

    async def _list(self, runtime: BotRuntime, room: RoomID, owner: AccountRow, lang: str) -> None:
        states = REQUEST_STATES.get(lang, REQUEST_STATES["de"])
        async with self._db.reading() as conn:
            if owner.role is Role.PRACTICE:
                rows = await store.of_practice(conn, owner.user_id, store.PENDING)
            else:
                rows = await store.of_patient(conn, owner.user_id)
            lines = []
            for row in rows:
                other = row.patient_id if owner.role is Role.PRACTICE else row.practice_id
                name = await name_of(conn, other)
                lines.append(f"Nr. {row.id}: {name} — {states[row.state]} ({_day(row.created_at)})")
        if owner.role is Role.PRACTICE:
            key = "requests_practice" if lines else "requests_practice_none"
        else:
            key = "requests_list" if lines else "requests_none"
        await runtime.send_notice(room, text(key, lang, lines="\n".join(lines)))

    async def _withdraw(
        self, runtime: BotRuntime, room: RoomID, owner: AccountRow, number: int, lang: str
    ) -> None:
        try:
            request = await self._requests.withdraw(owner.user_id, number)
        except RequestRefused as refused:
            await runtime.send_notice(room, text(refused.key, lang, number=str(number)))
            return
        async with self._db.reading() as conn:
            name = await name_of(conn, request.practice_id)
        await runtime.send_notice(
            room, text("request_withdrawn", lang, number=str(number), practice=name)
        )

    async def _issue(
        self, runtime: BotRuntime, room: RoomID, owner: AccountRow, bound: str, lang: str
    ) -> None:
        try:
            issued = await self._requests.issue_code(owner.user_id, self._requests.binding(bound))
        except RequestRefused as refused:
            await runtime.send_notice(room, text(refused.key, lang, reason=refused.reason))
            return
        await runtime.send_notice(
            room,
            text("code_issued", lang, code=issued.code, until=_day(issued.expires_at),
                 bound=text("code_bound", lang) if bound else ""),
        )  # fmt: skip

    async def _redeem(
        self, runtime: BotRuntime, room: RoomID, owner: AccountRow, typed: str, lang: str
    ) -> None:
        if not typed:
            await runtime.send_notice(room, text("code_usage", lang))
            return
        try:
            practice = await self._requests.redeem(owner.user_id, typed)
        except CodeFormatError as error:
            await runtime.send_notice(room, text("code_invalid", lang, reason=str(error)))
            return
        except RequestRefused as refused:
            await runtime.send_notice(room, text(refused.key, lang))
            return
        async with self._db.reading() as conn:
            entries = await directory_store.by_matrix_id(conn, practice)
        self.remember_hits(room, 1, [practice])
        line = hit_line(1, entries[0]) if entries else f"1. {practice}"
        await runtime.send_notice(room, text("code_redeemed", lang, hit=line))


def hit_line(number: int, row: ProviderRow) -> str:
    specialties = ", ".join(row.specialties) or "–"
    address = ", ".join(part for part in (row.street, f"{row.postcode} {row.city}".strip()) if part)
    return f"{number}. {row.name} — {specialties} — {address}"


def _day(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, BERLIN).strftime("%d.%m.%Y %H:%M")
