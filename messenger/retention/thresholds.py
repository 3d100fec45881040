"""The patient's leave-prompt threshold: 1–60 months or off. Kept in the patient's account data
(our namespace) so that any client can set it, and mirrored in our database for the daily job.
The service bot writes both; a change made by a client reaches us from our Synapse module."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from messenger.bridge.homeserver_client import HomeserverClient
from messenger.db.database import Database, now_ms
from messenger.db.stores import chat_requests as notices_store
from messenger.db.stores import leave_prompts as store
from messenger.ids import UserID
from messenger.namespace import LEAVE_PROMPT_TYPE

log = logging.getLogger(__name__)
MIN_MONTHS = 1
MAX_MONTHS = 60
_OFF_WORDS = {"aus", "off", "nie", "never", "keine", "none"}
_MONTH_WORDS = {"monat", "monate", "monaten", "month", "months", "m"}


class ThresholdError(ValueError):
    """A threshold the patient typed or stored is not allowed; the text says what is."""


@dataclass(frozen=True)
class Threshold:
    months: int | None  # None: prompts off

    def account_data(self) -> dict[str, Any]:
        return {"months": self.months}


def parse_threshold(words: str) -> Threshold:
    """ "3 monate", "12", "aus" -> Threshold; anything else raises ThresholdError."""
    text = words.strip().lower()
    if text in _OFF_WORDS:
        return Threshold(None)
    match = re.fullmatch(r"(-?[0-9]+)\s*([a-zäöü]*)", text)
    if match is None or (match.group(2) and match.group(2) not in _MONTH_WORDS):
        raise ThresholdError(f"{words.strip()!r}")
    return _checked(int(match.group(1)))


def _checked(months: int) -> Threshold:
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        raise ThresholdError(str(months))
    return Threshold(months)


def threshold_from_account_data(content: Any) -> Threshold:
    """{"months": 1..60} or {"months": null}; anything else raises ThresholdError."""
    if not isinstance(content, dict) or "months" not in content:
        raise ThresholdError("missing 'months'")
    months = content["months"]
    if months is None:
        return Threshold(None)
    if isinstance(months, bool) or not isinstance(months, int):
        raise ThresholdError(repr(months))
    return _checked(months)


class LeaveThresholds:
    def __init__(
        self, db: Database, hs: HomeserverClient, admin_token: Callable[[], Awaitable[str]],
        default_months: int,
    ) -> None:  # fmt: skip
        self._db = db
        self._hs = hs
        self._admin_token = admin_token
        self.default_months = default_months

    async def current(self, user: UserID) -> int | None:
        async with self._db.reading() as conn:
            has, months = await store.threshold(conn, user)
        return months if has else self.default_months

    async def set(self, user: UserID, threshold: Threshold) -> None:
        """What the patient told the service bot: written to their account data (as them, on
        their explicit request) and to our mirror."""
        path = f"/_matrix/client/v3/user/{quote(user)}/account_data/{LEAVE_PROMPT_TYPE}"
        async with self._hs.acting_as(await self._admin_token(), user) as token:
            await self._hs.request("PUT", path, body=threshold.account_data(), token=token)
        async with self._db.transaction() as conn:
            await store.set_threshold(conn, user, threshold.months, now_ms())
        log.info("leave-prompt threshold of %s set to %s", user, threshold.months)

    async def from_client(self, user: UserID, content: Any) -> bool:
        """A client changed the account data (reported by our Synapse module). A valid value is
        mirrored; an invalid one keeps the previous value and the patient is told why."""
        try:
            threshold = threshold_from_account_data(content)
        except ThresholdError as error:
            async with self._db.transaction() as conn:
                await notices_store.add_notice(
                    conn, user, "threshold_invalid_stored", {"value": str(error)}, now_ms()
                )
            log.info("ignored invalid leave-prompt threshold of %s", user)
            return False
        async with self._db.transaction() as conn:
            await store.set_threshold(conn, user, threshold.months, now_ms())
        return True
