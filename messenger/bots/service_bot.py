"""The service bot: greets each patient in their encrypted service room and answers commands."""

from __future__ import annotations

import logging

from messenger.bots.base import Bot
from messenger.bots.commands import parse_command
from messenger.bots.leave_commands import LeaveCommands
from messenger.bots.notices import NoticeCourier
from messenger.bots.request_commands import RequestCommands, hit_line
from messenger.bots.runtime import BotRuntime
from messenger.bots.texts import YES_NO, text
from messenger.db.database import Database, now_ms
from messenger.db.stores import accounts as accounts_store
from messenger.db.stores.accounts import AccountRow
from messenger.directory.query import QueryError, parse_free_text
from messenger.directory.search import ProviderDirectory
from messenger.ids import Role, RoomID, UserID, localpart
from messenger.requests.handler import ChatRequestHandler

log = logging.getLogger(__name__)


PAGE = 5


class ServiceBot(Bot):
    def __init__(
        self,
        db: Database,
        directory: ProviderDirectory,
        requests: ChatRequestHandler,
        insurer_name: str,
        default_language: str,
        leave: LeaveCommands,
    ) -> None:
        self._db = db
        self._leave = leave
        self._requests = RequestCommands(db, requests)
        self.notices = NoticeCourier(db, default_language)
        self._directory = directory
        self._insurer = insurer_name
        self._default_language = default_language
        self._searches: dict[RoomID, tuple[str, int]] = {}  # room -> (query, next offset)

    def _language(self, account: AccountRow) -> str:
        return account.language or self._default_language

    async def _owner(self, room_id: RoomID) -> AccountRow | None:
        async with self._db.transaction() as conn:
            return await accounts_store.owner_of_service_room(conn, room_id)

    async def _greet(self, runtime: BotRuntime, account: AccountRow) -> None:
        """Send the greeting once. The fixed transaction id makes a resend after a crash (sent,
        not yet recorded) a no-op at the homeserver; it is recorded only once it was sent."""
        if account.greeted_at is not None or account.service_room_id is None:
            return
        greeting = "greeting_practice" if account.role is Role.PRACTICE else "greeting"
        await runtime.send_notice(
            account.service_room_id,
            text(greeting, self._language(account), insurer=self._insurer),
            txn_id=f"greeting-{localpart(account.user_id)}",
        )
        async with self._db.transaction() as conn:
            await accounts_store.mark_greeted(conn, account.user_id, now_ms())
        log.info("service bot: greeted %s", account.user_id)

    async def stop(self) -> None:
        await self.notices.stop()

    async def on_ready(self, runtime: BotRuntime) -> None:
        """Start sending queued notices; greet patients who joined while the bot was down (or
        whose greeting failed)."""
        self.notices.start(runtime, "notices")
        async with self._db.transaction() as conn:
            owners = await accounts_store.list_accounts(conn, Role.PATIENT)
            owners += await accounts_store.list_accounts(conn, Role.PRACTICE)
        for account in owners:
            room = account.service_room_id
            if room and account.greeted_at is None and runtime.is_joined(room, account.user_id):
                try:
                    await self._greet(runtime, account)
                except Exception:
                    log.exception("service bot: greeting %s failed", account.user_id)

    async def on_join(self, runtime: BotRuntime, room_id: RoomID, user: UserID) -> None:
        owner = await self._owner(room_id)
        if owner is not None and owner.user_id == user:
            await self._greet(runtime, owner)

    async def on_text(
        self, runtime: BotRuntime, room_id: RoomID, sender: UserID, body: str
    ) -> None:
        owner = await self._owner(room_id)
        if owner is None or owner.user_id != sender:
            return
        command = parse_command(body)
        language = self._language(owner)
        practice = owner.role is Role.PRACTICE
        if command.name == "help":
            key = "help_practice" if practice else "help"
            await runtime.send_notice(room_id, text(key, command.language_hint or language))
        elif practice and command.name in ("listed", "accepting", "status"):
            await self._practice_setting(runtime, room_id, owner, command.name, command.argument,
                                         command.language_hint or language)  # fmt: skip
        elif command.name == "search":
            await self._search(
                runtime, room_id, command.argument, 0, command.language_hint or language
            )
        elif command.name == "more":
            last = self._searches.get(room_id)
            reply_language = command.language_hint or language
            if last is None:
                await runtime.send_notice(room_id, text("search_no_more", reply_language))
            else:
                await self._search(runtime, room_id, last[0], last[1], reply_language)
        elif command.name in ("request", "requests", "withdraw", "code"):
            await self._requests.handle(
                runtime, room_id, owner, command, command.language_hint or language
            )
        elif command.name in ("threshold", "leave", "keep") and not practice:
            await self._leave.handle(
                runtime, room_id, owner, command, command.language_hint or language
            )
        elif command.name == "language":
            async with self._db.transaction() as conn:
                await accounts_store.set_language(conn, owner.user_id, command.argument)
            await runtime.send_notice(room_id, text("language_set", command.argument))
        else:
            await runtime.send_notice(room_id, text("unknown_command", language))

    async def _practice_setting(
        self, runtime: BotRuntime, room_id: RoomID, owner: AccountRow, name: str, value: str,
        language: str,
    ) -> None:  # fmt: skip
        """A practice lists itself or not, accepts new requests or not; search follows at once."""
        if name == "status":
            entries = await self._directory.entries_of(owner.user_id)
        else:
            flag = value == "yes"
            entries = await self._directory.set_practice_settings(
                owner.user_id,
                listed=flag if name == "listed" else None,
                accepting=flag if name == "accepting" else None,
            )
            log.info("practice %s: %s set to %s", owner.user_id, name, value)
        listed, accepting = await self._directory.practice_settings(owner.user_id)
        words = YES_NO.get(language, YES_NO["de"])
        lines = "\n".join(hit_line(entry.id, entry) for entry in entries)
        message = text(
            "practice_status", language, listed=words[listed][0], accepting=words[accepting][1],
            entries=lines or text("practice_no_entry", language),
        )  # fmt: skip
        await runtime.send_notice(room_id, message)

    async def _search(
        self, runtime: BotRuntime, room_id: RoomID, wanted: str, offset: int, language: str
    ) -> None:
        try:
            query = parse_free_text(wanted, limit=PAGE + 1, offset=offset)
        except QueryError as error:
            await runtime.send_notice(room_id, text("search_invalid", language, reason=str(error)))
            return
        rows = await self._directory.search(query)
        if not rows:
            self._searches.pop(room_id, None)
            key = "search_none" if offset == 0 else "search_no_more"
            await runtime.send_notice(room_id, text(key, language, query=wanted))
            return
        page, more = rows[:PAGE], len(rows) > PAGE
        hits = "\n".join(hit_line(offset + i + 1, row) for i, row in enumerate(page))
        self._requests.remember_hits(room_id, offset + 1, [row.matrix_id for row in page])
        message = text("search_results", language, query=wanted, hits=hits)
        if more:
            message += "\n\n" + text("search_more_hint", language)
            self._searches[room_id] = (wanted, offset + PAGE)
        else:
            self._searches.pop(room_id, None)
        await runtime.send_notice(room_id, message)

    async def on_undecryptable(self, runtime: BotRuntime, room_id: RoomID, sender: UserID) -> None:
        owner = await self._owner(room_id)
        if owner is not None and owner.user_id == sender:
            await runtime.send_notice(room_id, text("undecryptable", self._language(owner)))
