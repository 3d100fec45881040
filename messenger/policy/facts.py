"""Facts the rules need, held in the module's memory and kept current by the appservice.

The appservice owns accounts, directory, requests and codes. The module keeps one record per
user (policy/records.py) in a bounded most-recently-used map and follows the appservice's
policy-change log with a long poll: every change (a new account, a chat request opened or
ended, a code redeemed, a room joined or left) arrives as the user's new record within
milliseconds, so an invite is decided from memory without a network call. A user the map does
not hold is fetched once (POST records).

While the log cannot be followed (the appservice is down or restarting) the map is dropped and
every decision asks the appservice; if that fails too, the caller fails closed.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Set
from typing import Any, Protocol

from messenger.policy.paths import (
    CHANGES_PATH,
    LEAVE_THRESHOLD_PATH,
    PERMISSIONS_PATH,
    RECORDS_PATH,
)
from messenger.policy.records import Limits, UserFacts, invite_facts, role_in
from messenger.policy.rules import InviteFacts

log = logging.getLogger(__name__)
MAX_CACHED = 100_000
WAIT_MS = 20_000  # a long poll's wait; the appservice answers at once when something changed
RETRY_S = (0.5, 1.0, 2.0, 5.0)


class JsonClient(Protocol):
    async def post_json_get_json(
        self, uri: str, post_json: Any, headers: Any = None
    ) -> Any: ...  # pragma: no cover

    async def get_json(
        self, uri: str, args: Any = None, headers: Any = None
    ) -> Any: ...  # pragma: no cover


class FactsSource:
    def __init__(
        self,
        http: JsonClient,
        appservice_url: str,
        hs_token: str,
        sleep: Callable[[float], Awaitable[None]],
        on_connected: Callable[[], Awaitable[object]],
        max_cached: int = MAX_CACHED,
    ) -> None:
        self._http = http
        self._base = appservice_url.rstrip("/")
        self._headers = {"Authorization": [f"Bearer {hs_token}"]}
        self._sleep = sleep
        self._on_connected = on_connected  # the module refreshes what it does not follow here
        self._max = max_cached
        self._records: OrderedDict[str, tuple[UserFacts, int]] = OrderedDict()
        self.limits = Limits()
        self.following = False  # the map is current (the change log is being followed)
        self.tick = -1
        self.fetches = 0  # records fetched because the map did not hold them (for the status)

    # --- the map --------------------------------------------------------------------------
    def _put(self, user: str, facts: UserFacts, as_of: int) -> None:
        held = self._records.get(user)
        if held is not None and held[1] > as_of:
            return  # read before what we hold
        self._records[user] = (facts, as_of)
        self._records.move_to_end(user)
        while len(self._records) > self._max:
            self._records.popitem(last=False)

    def _take(self, body: Any) -> dict[str, UserFacts]:
        """The records of an answer, put into the map while it is current."""
        records = body.get("records") if isinstance(body, dict) else None
        as_of = body.get("as_of") if isinstance(body, dict) else None
        if not isinstance(records, dict) or not isinstance(as_of, int):
            raise ValueError("malformed policy records")
        limits = Limits.from_json(body.get("limits"))
        if limits is not None:
            self.limits = limits
        taken: dict[str, UserFacts] = {}
        for user, raw in records.items():
            facts = UserFacts.from_json(raw)
            if facts is None:
                log.warning("ignoring a malformed policy record of %s", user)
                continue
            taken[str(user)] = facts
            if self.following:
                self._put(str(user), facts, as_of)
        return taken

    def held(self, user: str) -> UserFacts | None:
        hit = self._records.get(user)
        if hit is None:
            return None
        self._records.move_to_end(user)
        return hit[0]

    def cached_role(self, user: str, visible: Set[str]) -> tuple[bool, str | None]:
        return role_in(user, self.held(user), visible)

    def forget(self) -> None:
        self._records.clear()

    def drop(self, user: str) -> None:
        self._records.pop(user, None)

    def __len__(self) -> int:
        return len(self._records)

    # --- following the change log ---------------------------------------------------------
    async def follow(self) -> None:
        """Runs for the life of the process."""
        failures = 0
        while True:
            try:
                body = await self._http.get_json(
                    self._base + CHANGES_PATH,
                    args={"since": str(self.tick), "wait_ms": str(WAIT_MS)},
                    headers=self._headers,
                )
                if not isinstance(body, dict) or not isinstance(body.get("tick"), int):
                    raise ValueError("malformed change answer")
                if body.get("reset") is True or not self.following:
                    self.forget()
                    if not self.following:
                        await self._on_connected()
                    self.following = True
                self._take(body)
                if body.get("directory") is True:  # who is visible changed: fetch that again
                    await self._on_connected()
                self.tick = body["tick"]
                failures = 0
            except Exception as error:  # the appservice is down, restarting or confused
                if self.following or failures == 0:
                    log.warning("policy facts not followed, asking per decision: %s", error)
                self.following = False
                self.forget()
                self.tick = -1
                await self._sleep(RETRY_S[min(failures, len(RETRY_S) - 1)])
                failures += 1

    # --- questions ------------------------------------------------------------------------
    async def _fetch(self, users: list[str]) -> dict[str, UserFacts] | None:
        self.fetches += 1
        try:
            body = await self._http.post_json_get_json(
                self._base + RECORDS_PATH, {"users": users}, self._headers
            )
            return self._take(body)
        except Exception as error:  # unreachable, timeout, non-200: the caller fails closed
            log.warning("policy facts unavailable: %s", error)
            return None

    async def records(
        self, users: Iterable[str], visible: Set[str]
    ) -> dict[str, UserFacts | None] | None:
        """Each user's record (None: a user the appservice does not know, or a practice known
        only from the directory); None if they had to be fetched and could not be."""
        wanted = list(dict.fromkeys(users))
        found: dict[str, UserFacts | None] = {}
        missing = []
        for user in wanted:
            held = self.held(user) if self.following else None
            if held is not None or (self.following and user in visible):
                found[user] = held
            else:
                missing.append(user)
        if missing:
            fetched = await self._fetch(missing)
            if fetched is None:
                return None
            found.update({user: fetched.get(user) for user in missing})
        return found

    async def record(self, user: str) -> UserFacts | None:
        """The user's record: held, or fetched (None if it cannot be)."""
        held = self.held(user) if self.following else None
        if held is not None:
            return held
        fetched = await self._fetch([user])
        return fetched.get(user) if fetched is not None else None

    async def invite(
        self, inviter: str, invitee: str, visible: Set[str], now_ms: int
    ) -> InviteFacts | None:
        """The facts for one invite at `now_ms`, from the two users' records (None: none to be
        had)."""
        records = await self.records([inviter, invitee], visible)
        if records is None:
            return None
        return invite_facts(
            inviter, invitee, records[inviter], records[invitee], visible, self.limits, now_ms
        )

    async def roles(self, users: Iterable[str], visible: Set[str]) -> dict[str, str | None] | None:
        records = await self.records(users, visible)
        if records is None:
            return None
        return {user: role_in(user, facts, visible)[1] for user, facts in records.items()}

    async def report_permissions(
        self, user: str, kind: str, content: Any, *, backfill: bool
    ) -> bool:
        """Pass a user's invite permission settings on (a client's change, or - backfill -
        what was read from Synapse for a user the appservice had none of). The user's record
        here is dropped, so the next decision reads it afresh."""
        self.drop(user)
        try:
            await self._http.post_json_get_json(
                self._base + PERMISSIONS_PATH,
                {"user_id": user, "type": kind, "content": content, "backfill": backfill},
                self._headers,
            )
        except Exception as error:
            log.warning("invite permissions of %s not passed on: %s", user, error)
            return False
        finally:
            self.drop(user)
        return True

    async def leave_threshold(self, user: str, content: Any) -> None:
        """Report a client's change of the leave-prompt threshold (best effort, logged)."""
        try:
            await self._http.post_json_get_json(
                self._base + LEAVE_THRESHOLD_PATH, {"user_id": user, "content": content},
                self._headers,
            )  # fmt: skip
        except Exception as error:
            log.warning("leave-prompt threshold of %s not passed on: %s", user, error)
