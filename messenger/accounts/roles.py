"""What a Matrix user is to us, and what we call them: one answer for the room registry, the
chat-request tracker, the bot texts and the facts our Synapse module asks for.

bot      a user of our appservice namespace (on our own server)
patient / practice / agent   an account of ours, by its role
practice also anyone in the provider directory without an account here (e.g. on another
         TI-Messenger server)
None     anybody else
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.stores import accounts as accounts_store
from messenger.db.stores import directory as directory_store
from messenger.ids import Role
from messenger.namespace import BotNamespace

BOT_ROLE = "bot"


async def role_of(conn: AsyncConnection, user: str, bots: BotNamespace) -> str | None:
    if user in bots:
        return BOT_ROLE
    account = await accounts_store.get(conn, user)
    if account is not None:
        return account.role.value
    known, _visible = await directory_store.practice_reach(conn, user)
    return Role.PRACTICE.value if known else None


async def name_of(conn: AsyncConnection, user: str) -> str:
    """How people see a user in bot texts: a practice by its directory name, anyone else by
    the account's display name, and otherwise by the Matrix ID."""
    entries = await directory_store.by_matrix_id(conn, user)
    if entries:
        return entries[0].name
    account = await accounts_store.get(conn, user)
    return account.display_name if account else user
