"""Handler: the facts our Synapse module asks for before it decides an invite or a join.

Roles as `accounts/roles.py` defines them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.accounts.roles import role_of
from messenger.config import ChatRequestsSection
from messenger.db.database import Database, now_ms
from messenger.db.stores import chat_requests as store
from messenger.db.stores import directory as directory_store
from messenger.ids import Role
from messenger.namespace import BotNamespace

MAX_USERS = 1000


class PolicyFacts:
    def __init__(self, db: Database, bots: BotNamespace, limits: ChatRequestsSection) -> None:
        self._db = db
        self._bots = bots
        self._limits = limits

    async def _role(self, conn: AsyncConnection, user: str) -> str | None:
        return await role_of(conn, user, self._bots)

    async def roles(self, users: list[str]) -> dict[str, str | None]:
        async with self._db.reading() as conn:
            return {user: await self._role(conn, user) for user in users[:MAX_USERS]}

    async def invite(self, inviter: str, invitee: str) -> dict[str, Any]:
        async with self._db.reading() as conn:
            inviter_role = await self._role(conn, inviter)
            invitee_role = await self._role(conn, invitee)
            facts: dict[str, Any] = {
                "inviter_role": inviter_role,
                "invitee_role": invitee_role,
                "max_open": self._limits.max_open_per_patient,
                "max_per_day": self._limits.max_per_day,
            }
            pair = _patient_and_practice(inviter, inviter_role, invitee, invitee_role)
            if pair is None:
                return facts
            patient, practice = pair
            facts["care_room"] = await store.shared_care_room(conn, patient, practice)
            if patient == inviter:
                _known, facts["invitee_reachable"] = await directory_store.practice_reach(
                    conn, practice
                )
                facts["code_grant"] = await store.has_grant(conn, patient, practice)
                facts["open_requests"], facts["requests_today"] = await store.counts(
                    conn, patient, now_ms() - store.DAY_MS
                )
            return facts


def _patient_and_practice(
    inviter: str, inviter_role: str | None, invitee: str, invitee_role: str | None
) -> tuple[str, str] | None:
    roles = (inviter_role, invitee_role)
    if roles == (Role.PATIENT.value, Role.PRACTICE.value):
        return inviter, invitee
    if roles == (Role.PRACTICE.value, Role.PATIENT.value):
        return invitee, inviter
    return None
