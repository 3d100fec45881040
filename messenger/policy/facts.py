"""Facts the rules need, fetched from the appservice (which owns accounts, directory, requests
and codes). Roles are cached for a while (they rarely change); pair facts (listing, codes, shared
chats, request counts) are asked per invite. A failed fetch returns None: the caller fails closed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any, Protocol

from messenger.policy.paths import INVITE_FACTS_PATH, LEAVE_THRESHOLD_PATH, ROLES_PATH
from messenger.policy.rules import InviteFacts

log = logging.getLogger(__name__)
ROLE_TTL_S = 60.0  # a role changed without a pushed refresh is seen within a minute
_MAX_CACHED = 100_000


class JsonPoster(Protocol):
    async def post_json_get_json(
        self, uri: str, post_json: Any, headers: Any = None
    ) -> Any: ...  # pragma: no cover


class FactsSource:
    def __init__(self, http: JsonPoster, appservice_url: str, hs_token: str) -> None:
        self._http = http
        self._base = appservice_url.rstrip("/")
        self._headers = {"Authorization": [f"Bearer {hs_token}"]}
        self._roles: dict[str, tuple[str | None, float]] = {}

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        try:
            answer = await self._http.post_json_get_json(self._base + path, body, self._headers)
        except Exception as error:  # unreachable, timeout, non-200: the caller fails closed
            log.warning("policy facts unavailable (%s): %s", path, error)
            return None
        return answer if isinstance(answer, dict) else None

    def _remember(self, roles: dict[str, Any]) -> None:
        if len(self._roles) > _MAX_CACHED:
            self._roles.clear()
        until = time.monotonic() + ROLE_TTL_S
        for user, role in roles.items():
            self._roles[str(user)] = (role if isinstance(role, str) else None, until)

    def cached_role(self, user: str) -> tuple[bool, str | None]:
        hit = self._roles.get(user)
        if hit is None or hit[1] < time.monotonic():
            return False, None
        return True, hit[0]

    async def invite(self, inviter: str, invitee: str) -> InviteFacts | None:
        body = await self._post(INVITE_FACTS_PATH, {"inviter": inviter, "invitee": invitee})
        if body is None:
            return None
        facts = InviteFacts.from_json(body)
        self._remember({inviter: facts.inviter_role, invitee: facts.invitee_role})
        return facts

    async def roles(self, users: Iterable[str]) -> dict[str, str | None] | None:
        wanted = list(dict.fromkeys(users))
        known: dict[str, str | None] = {}
        missing = []
        for user in wanted:
            hit, role = self.cached_role(user)
            if hit:
                known[user] = role
            else:
                missing.append(user)
        if missing:
            body = await self._post(ROLES_PATH, {"users": missing})
            roles = body.get("roles") if body is not None else None
            if not isinstance(roles, dict):
                return None
            self._remember(roles)
            known.update({u: roles.get(u) if isinstance(roles.get(u), str) else None
                          for u in missing})  # fmt: skip
        return known

    async def leave_threshold(self, user: str, content: Any) -> None:
        """Report a client's change of the leave-prompt threshold (best effort, logged)."""
        if await self._post(LEAVE_THRESHOLD_PATH, {"user_id": user, "content": content}) is None:
            log.warning("leave-prompt threshold of %s not passed on to the appservice", user)

    def forget(self) -> None:
        self._roles.clear()
