"""The service bot: greets each patient in their encrypted service room and answers commands."""

from __future__ import annotations

import logging

from messenger.bots.base import Bot
from messenger.bots.commands import parse_command
from messenger.bots.runtime import BotRuntime
from messenger.bots.texts import text
from messenger.db.database import Database, now_ms
from messenger.db.stores import accounts as accounts_store
from messenger.db.stores.accounts import AccountRow
from messenger.ids import Role, RoomID, UserID, localpart

log = logging.getLogger(__name__)


class ServiceBot(Bot):
    def __init__(self, db: Database, insurer_name: str, default_language: str) -> None:
        self._db = db
        self._insurer = insurer_name
        self._default_language = default_language

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
        await runtime.send_notice(
            account.service_room_id,
            text("greeting", self._language(account), insurer=self._insurer),
            txn_id=f"greeting-{localpart(account.user_id)}",
        )
        async with self._db.transaction() as conn:
            await accounts_store.mark_greeted(conn, account.user_id, now_ms())
        log.info("service bot: greeted %s", account.user_id)

    async def on_ready(self, runtime: BotRuntime) -> None:
        """Greet patients who joined while the bot was down (or whose greeting failed)."""
        async with self._db.transaction() as conn:
            patients = await accounts_store.list_accounts(conn, Role.PATIENT)
        for account in patients:
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
        if command.name == "help":
            await runtime.send_notice(room_id, text("help", command.language_hint or language))
        elif command.name == "language":
            async with self._db.transaction() as conn:
                await accounts_store.set_language(conn, owner.user_id, command.argument)
            await runtime.send_notice(room_id, text("language_set", command.argument))
        else:
            await runtime.send_notice(room_id, text("unknown_command", language))

    async def on_undecryptable(self, runtime: BotRuntime, room_id: RoomID, sender: UserID) -> None:
        owner = await self._owner(room_id)
        if owner is not None and owner.user_id == sender:
            await runtime.send_notice(room_id, text("undecryptable", self._language(owner)))
