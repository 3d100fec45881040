"""Handler: what patients and practices do with chat requests through the service bot, and the
expiry pass.

A request made through the bot is carried out with a short-lived token for the patient (admin
"login as"), so it is the patient's own room and invite, checked by exactly the same server rules
as an invite from their own client. The lifecycle (lifecycle.py) then sees the invite event like
any other.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from messenger.bridge.errors import HomeserverUnreachable, MatrixError
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.config import ChatRequestsSection, duration_ms
from messenger.db.database import Database, now_ms
from messenger.db.stores import accounts as accounts_store
from messenger.db.stores import chat_requests as store
from messenger.ids import RoomID, UserID
from messenger.kvnr import InvalidKVNR, kvnr_digest, parse_kvnr
from messenger.requests.codes import code_hash, new_code, normalise
from messenger.requests.lifecycle import accept, tell

log = logging.getLogger(__name__)
MAX_CODE_FAILURES_PER_HOUR = 5
HOUR_MS = 3_600_000
KVNR_BINDING = "kvnr:"
LOST_JOIN = "chat request %d: the practice is in the room, but its join never reached us; accepted"


class RequestRefused(Exception):
    """The request cannot be made; `key` names the bot text, `reason` the server's words."""

    def __init__(self, key: str, reason: str = "") -> None:
        super().__init__(key)
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: int


@dataclass
class ExpiryResult:
    expired: int
    rescinded: int
    failed: int
    accepted: int = 0  # the practice had joined, but the appservice had not seen it


class ChatRequestHandler:
    def __init__(
        self,
        db: Database,
        hs: HomeserverClient,
        admin_token: Callable[[], Awaitable[str]],
        settings: ChatRequestsSection,
        code_key: str,
    ) -> None:
        self._db = db
        self._hs = hs
        self._admin_token = admin_token
        self._code_valid_ms = duration_ms(settings.code_valid_for)
        self._code_key = code_key

    async def request(self, patient: UserID, practice: UserID) -> RoomID:
        """Create the patient's encrypted chat with the practice and invite it."""
        try:
            async with self._hs.acting_as(await self._admin_token(), patient) as token:
                return await self._hs.create_room(
                    {"preset": "trusted_private_chat", "is_direct": True, "invite": [practice]},
                    token=token,
                )
        except MatrixError as error:
            raise RequestRefused("request_refused", error.error) from None
        except HomeserverUnreachable:
            raise RequestRefused("request_failed") from None

    async def withdraw(self, patient: UserID, number: int) -> store.ChatRequestRow:
        """Withdraw the patient's own pending request and rescind its invite (if that fails,
        `rescind_pending` stays set and the expiry pass retries it)."""
        async with self._db.transaction() as conn:
            request = await store.get(conn, number)
            if request is None or request.patient_id != patient:
                raise RequestRefused("request_unknown")
            if not await store.decide(conn, request.id, store.WITHDRAWN, now_ms(), rescind=True):
                raise RequestRefused("request_not_pending")
            await tell(conn, request, None, "request_withdrawn_practice", now_ms())
        try:
            await self._rescind(request)
        except (MatrixError, HomeserverUnreachable) as error:
            log.warning("chat request %d: invite not rescinded yet: %s", request.id, error)
        return request

    async def expire_due(self, now: int | None = None) -> ExpiryResult:
        """Expire overdue pending requests and rescind the invites of ended ones. Idempotent:
        a crash between the two steps leaves `rescind_pending` set and the next pass retries.

        Before a request expires, the homeserver is asked whether the practice is in the room
        after all: a join that never reached the appservice (Synapse keeps the events queued
        for a transaction in memory, so a crash of Synapse loses them) must not end in the
        practice being removed from a chat under way - the request is accepted instead."""
        at = now_ms() if now is None else now
        async with self._db.reading() as conn:
            due = await store.due(conn, at)
        result = ExpiryResult(0, 0, 0)
        ended: list[store.ChatRequestRow] = []
        for request in due:
            if request.state != store.PENDING:  # ended before; its invite is still to rescind
                ended.append(request)
                continue
            try:
                joined = await self._practice_joined(request)
            except (MatrixError, HomeserverUnreachable) as error:
                log.warning("chat request %d: membership not known, not expired yet: %s",
                            request.id, error)  # fmt: skip
                result.failed += 1
                continue
            async with self._db.transaction() as conn:
                if joined:
                    if await accept(conn, request, at):
                        log.warning(LOST_JOIN, request.id)
                        result.accepted += 1
                    continue
                if not await store.decide(conn, request.id, store.EXPIRED, at, rescind=True):
                    continue  # decided meanwhile: its event arrived after all
                await tell(conn, request, "request_expired", "request_expired_practice", at)
            result.expired += 1
            ended.append(request)
        for request in ended:
            try:
                await self._rescind(request)
                result.rescinded += 1
            except (MatrixError, HomeserverUnreachable) as error:
                log.warning("chat request %d: invite not rescinded yet: %s", request.id, error)
                result.failed += 1
        return result

    async def _practice_joined(self, request: store.ChatRequestRow) -> bool:
        members = await self._hs.joined_members(await self._admin_token(), request.room_id)
        return request.practice_id in members

    async def _rescind(self, request: store.ChatRequestRow) -> None:
        """Take back the practice's invite - never the practice itself: one that is in the
        room already (its join lost on the way to us, or just made) stays."""
        if await self._practice_joined(request):
            log.warning("chat request %d: the practice is in the room; not removed", request.id)
            async with self._db.transaction() as conn:
                await store.rescinded(conn, request.id)
            return
        try:
            async with self._hs.acting_as(
                await self._admin_token(), UserID(request.patient_id)
            ) as token:
                await self._hs.kick(
                    token, RoomID(request.room_id), UserID(request.practice_id),
                    "Chat-Anfrage beendet / chat request ended",
                )  # fmt: skip
        except MatrixError as error:
            if error.status not in (403, 404):  # 403/404: no invite left to rescind, or no room
                raise
        async with self._db.transaction() as conn:
            await store.rescinded(conn, request.id)

    # --- access codes ---------------------------------------------------------------------
    def binding(self, typed: str | None) -> str | None:
        """Whom a code is for: a Matrix ID, or a KVNR (stored only as its keyed hash, so the
        practice learns nothing about whether that person has an account)."""
        if not typed:
            return None
        if typed.startswith("@") and ":" in typed:
            return typed
        try:
            return KVNR_BINDING + kvnr_digest(parse_kvnr(typed), self._code_key.encode())
        except InvalidKVNR as error:
            raise RequestRefused("code_binding_invalid", str(error)) from None

    async def issue_code(self, practice: UserID, bound_to: str | None) -> IssuedCode:
        code = new_code()
        at = now_ms()
        until = at + self._code_valid_ms
        async with self._db.transaction() as conn:
            await store.add_code(conn, code_hash(self._code_key, normalise(code)), practice,
                                 bound_to, at, until)  # fmt: skip
        log.info("access code issued by %s (bound: %s)", practice, bound_to is not None)
        return IssuedCode(code, until)

    async def redeem(self, patient: UserID, typed: str, now: int | None = None) -> UserID:
        """The practice the code opens; RequestRefused (unknown/used/expired/not for you/
        too many tries). Wrong tries are counted; after five in an hour all tries are refused."""
        at = now_ms() if now is None else now
        hashed = code_hash(self._code_key, normalise(typed))
        async with self._db.transaction() as conn:
            if (
                await store.failures_since(conn, patient, at - HOUR_MS)
                >= MAX_CODE_FAILURES_PER_HOUR
            ):
                raise RequestRefused("code_locked")
            row = await store.code(conn, hashed)
            digest = await accounts_store.kvnr_digest_of(conn, patient)
            kvnr = KVNR_BINDING + digest if digest else None
            problem = _code_problem(row, (patient, kvnr), at)
            if problem is None and not await store.redeem(conn, hashed, patient, at):
                problem = "code_used"
            if problem is not None:
                await store.record_failure(conn, patient, at)
            else:
                assert row is not None
                await store.grant(conn, patient, row.practice_id, at)
        if problem is not None:
            raise RequestRefused(problem)
        assert row is not None
        return UserID(row.practice_id)


def _code_problem(
    row: store.CodeRow | None, patient: tuple[str, str | None], at: int
) -> str | None:
    if row is None:
        return "code_unknown"
    if row.redeemed_by is not None:
        return "code_used"
    if row.expires_at <= at:
        return "code_expired"
    if row.patient_id is not None and row.patient_id not in patient:
        return "code_not_yours"
    return None
