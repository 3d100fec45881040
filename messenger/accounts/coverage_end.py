"""Handler: a patient's coverage end — scheduled and cancelled by the back office, warned about
in the service room, and carried out on the date by one resumable job.

On the date, in this order (the row's `step` is the next one, so a crash resumes there):
requests (pending chat requests withdrawn) → rooms (the patient leaves every room with a
visible reason) → account (Synapse deactivation with erase: devices, keys and login gone) →
records (ours reduced: no name, e-mail, KVNR or IdP subject; the insurer channel stays with the
insurer until its purge) → done, with an audit entry.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from messenger.accounts import coverage
from messenger.accounts.coverage import CoverageInputError
from messenger.accounts.handler import AccountInputError, find_person
from messenger.bridge.errors import HomeserverUnreachable, MatrixError
from messenger.bridge.homeserver_client import ADMIN_V1, CLIENT_V3, HomeserverClient, q
from messenger.db.database import Database, now_ms
from messenger.db.stores import accounts as accounts_store
from messenger.db.stores import chat_requests as requests_store
from messenger.db.stores import coverage as store
from messenger.db.stores import jobs as jobs_store
from messenger.db.stores.accounts import AccountRow
from messenger.failpoints import reached
from messenger.ids import Role, RoomID, UserID
from messenger.requests.handler import ChatRequestHandler, RequestRefused
from messenger.retention.calendar import BERLIN
from messenger.settings import Settings

log = logging.getLogger(__name__)
JOB = "coverage_end"
# a sync that returns little beyond the rooms a user is in or invited to
QUIET_SYNC = json.dumps({
    "room": {"timeline": {"limit": 1}, "state": {"types": []}, "ephemeral": {"types": []},
             "account_data": {"types": []}},
    "presence": {"types": []}, "account_data": {"types": []},
})  # fmt: skip
LEAVE_REASONS = {"insurer-change": "Zugang beendet — Kassenwechsel", "other": "Zugang beendet"}


@dataclass
class CoverageRun:
    warned: int = 0
    ended: int = 0
    failed: int = 0

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def today_in_berlin(at_ms: int) -> date:
    return datetime.fromtimestamp(at_ms / 1000, BERLIN).date()


class CoverageEnds:
    def __init__(
        self, settings: Settings, db: Database, hs: HomeserverClient,
        admin_token: Callable[[], Awaitable[str]],
    ) -> None:  # fmt: skip
        self._settings = settings
        self._db = db
        self._hs = hs
        self._admin_token = admin_token
        cfg = settings.config
        self._warn_days = tuple(cfg.accounts.coverage_warnings)
        self._requests = ChatRequestHandler(
            db, hs, admin_token, cfg.chat_requests, settings.secrets.kvnr_key
        )

    # --- the back office's requests ---------------------------------------------------------
    async def resolve(self, ref: str, field: str = "patient") -> AccountRow:
        """A patient by Matrix ID or KVNR."""
        async with self._db.reading() as conn:
            try:
                account = await find_person(conn, ref, self._settings.secrets.kvnr_key)
            except AccountInputError as error:
                raise CoverageInputError(str(error).replace("ACCOUNT", field, 1)) from None
        if account is None:
            raise CoverageInputError(f"{field}: no account {ref}")
        if account.role is not Role.PATIENT:
            raise CoverageInputError(
                f"{field}: {account.user_id} is a {account.role.value}, not a patient"
            )
        return account

    async def schedule(
        self, ref: str, on: str, reason: str | None, now: int
    ) -> store.CoverageEndRow:
        """Idempotent: the same date again changes nothing; another date before the end job
        started moves it (warnings start again from the new date)."""
        account = await self.resolve(ref)
        day = coverage.parse_end_date(on, today_in_berlin(now))
        why = coverage.parse_reason(reason)
        async with self._db.transaction() as conn:
            row = await store.get(conn, account.user_id)
            if row is not None and row.step != coverage.SCHEDULED and row.cancelled_at is None:
                raise CoverageInputError(f"--on: the end of {account.user_id} is under way or done")
            if (
                row is None
                or row.cancelled_at is not None
                or (row.end_on, row.reason) != (day.isoformat(), why)
            ):
                await store.put(conn, account.user_id, day.isoformat(), why, now)
            found = await store.get(conn, account.user_id)
        assert found is not None
        log.info("coverage end of %s set for %s", account.user_id, day)
        return found

    async def cancel(self, ref: str, now: int) -> store.CoverageEndRow:
        account = await self.resolve(ref)
        async with self._db.transaction() as conn:
            row = await store.get(conn, account.user_id)
            if row is None:
                raise CoverageInputError(f"--cancel: no coverage end is set for {account.user_id}")
            if row.step != coverage.SCHEDULED:
                raise CoverageInputError(
                    f"--cancel: too late, the end of {account.user_id} is under way or done"
                )
            if row.cancelled_at is None:
                await store.update(conn, account.user_id, cancelled_at=now)
            found = await store.get(conn, account.user_id)
        assert found is not None
        return found

    # --- the job --------------------------------------------------------------------------
    async def run(self, now: int) -> CoverageRun:
        today = today_in_berlin(now)
        result = CoverageRun()
        async with self._db.reading() as conn:
            rows = await store.active(conn)
        for row in rows:
            end_on = date.fromisoformat(row.end_on)
            if row.step == coverage.SCHEDULED and not coverage.is_due(end_on, today):
                result.warned += await self._warn(row, end_on, today, now)
                continue
            try:
                await self._end(row, now)
                result.ended += 1
            except (MatrixError, HomeserverUnreachable, RequestRefused):
                log.exception(
                    "coverage end of %s stopped at %s; resumed next run", row.user_id, row.step
                )
                result.failed += 1
        return result

    async def _warn(self, row: store.CoverageEndRow, end_on: date, today: date, now: int) -> int:
        warned = coverage.warned_days(row.warned)
        point = coverage.warning_due(end_on, today, self._warn_days, warned)
        if point is None:
            return 0
        left = (end_on - today).days
        async with self._db.transaction() as conn:
            await requests_store.add_notice(conn, row.user_id, f"coverage_warning_{row.reason}", {
                "date": end_on.strftime("%d.%m.%Y"), "days": str(left),
            }, now)  # fmt: skip
            done = warned | coverage.covered_by(point, self._warn_days)
            await store.update(conn, row.user_id, warned=coverage.warned_text(done))
        log.info("coverage end of %s: warning %d days before sent", row.user_id, point)
        return 1

    async def _end(self, row: store.CoverageEndRow, now: int) -> None:
        user = UserID(row.user_id)
        step = coverage.REQUESTS if row.step == coverage.SCHEDULED else row.step
        if row.started_at is None:
            async with self._db.transaction() as conn:
                await store.update(conn, user, started_at=now, step=step)
        while step != coverage.DONE:
            await self._do(step, user, row.reason, now)
            reached(f"{JOB}:{step}")
            step = coverage.STEPS[coverage.STEPS.index(step) + 1]
            async with self._db.transaction() as conn:
                await store.update(conn, user, step=step)
                if step == coverage.DONE:
                    await store.update(conn, user, finished_at=now)
                    await jobs_store.audit(conn, JOB, None, "account_ended", 1, now)
        log.info("coverage end of %s done", user)

    async def _do(self, step: str, user: UserID, reason: str, now: int) -> None:
        if step == coverage.REQUESTS:
            async with self._db.reading() as conn:
                pending = [r for r in await requests_store.of_patient(conn, user, limit=1000)
                           if r.state == requests_store.PENDING]  # fmt: skip
            for request in pending:
                await self._requests.withdraw(user, request.id)
        elif step == coverage.ROOMS:
            await self._leave_rooms(user, LEAVE_REASONS.get(reason, LEAVE_REASONS["other"]))
        elif step == coverage.ACCOUNT:
            token = await self._admin_token()
            details = await self._hs.request(
                "GET", f"/_synapse/admin/v2/users/{q(user)}", token=token
            )
            if not details.get("deactivated"):
                await self._hs.deactivate(token, user)
        elif step == coverage.RECORDS:
            async with self._db.transaction() as conn:
                await accounts_store.reduce_to_ended(conn, user, now)

    async def _leave_rooms(self, user: UserID, reason: str) -> None:
        """Leave every joined room and decline every open invitation, each with the reason
        (Synapse's own deactivation would part them silently)."""
        token = await self._admin_token()
        joined = await self._hs.request(
            "GET", f"{ADMIN_V1}/users/{q(user)}/joined_rooms", token=token
        )
        async with self._hs.acting_as(token, user) as own:
            synced = await self._hs.request(
                "GET", f"{CLIENT_V3}/sync", params={"filter": QUIET_SYNC}, token=own
            )
            invited = list((synced.get("rooms") or {}).get("invite") or {})
            rooms = [RoomID(room) for room in [*joined.get("joined_rooms", []), *invited]]
            for room in rooms:
                try:
                    await self._hs.request("POST", f"{CLIENT_V3}/rooms/{q(room)}/leave",
                                           body={"reason": reason}, token=own)  # fmt: skip
                except MatrixError as error:
                    if error.status not in (403, 404):  # left meanwhile
                        raise
                async with self._db.transaction() as conn:
                    await jobs_store.audit(conn, JOB, room, "patient_left", 1, now_ms())
