"""Inbound: the HTTP server Synapse calls (Application Service API v1) and our health route.

Transactions are authenticated (constant-time), stored durably and processed by the InboxWorker
(in the same database transaction when nothing fails, else in the background), then answered
200 — under traffic no sooner than the transaction window after the previous answer
(`pace.py`), so that Synapse's next transaction carries more events. Nothing but database work
happens inside the request.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from messenger.admin.api import AdminApi
from messenger.bridge import thirdparty
from messenger.bridge.inbox import InboxWorker
from messenger.bridge.pace import AnswerPace
from messenger.directory.query import QueryError
from messenger.directory.search import ProviderDirectory
from messenger.ids import UserID
from messenger.policy.paths import (
    CHANGES_PATH,
    LEAVE_THRESHOLD_PATH,
    PERMISSIONS_PATH,
    POLICY_PREFIX,
    RECORDS_PATH,
    VISIBLE_PATH,
)
from messenger.policy.permissions import PERMISSION_TYPES
from messenger.requests.facts import PolicyFacts
from messenger.retention.thresholds import LeaveThresholds
from messenger.rooms.envelope import envelope_of

log = logging.getLogger(__name__)
APP_PREFIX = "/_matrix/app/v1"
DRAIN_QUIET_S = 0.5  # no transaction for this long: Synapse's queue is empty
DRAIN_LIMIT_S = 3.0
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
UserQuery = Callable[[str], Awaitable[bool]]


def matrix_error(status: int, errcode: str, error: str) -> web.Response:
    return web.json_response({"errcode": errcode, "error": error}, status=status)


class TransactionServer:
    def __init__(
        self,
        inbox: InboxWorker,
        hs_token: str,
        user_exists: UserQuery,
        directory: ProviderDirectory,
        health: Callable[[], Awaitable[dict[str, Any]]],
        admin: AdminApi | None = None,
        facts: PolicyFacts | None = None,
        thresholds: LeaveThresholds | None = None,
        pace: AnswerPace | None = None,
    ) -> None:
        self._pace = pace or AnswerPace(0.0)
        self._last_transaction = float("-inf")  # monotonic
        self._storing = 0  # transactions being stored right now
        self._thresholds = thresholds
        self._admin = admin
        self._facts = facts
        self._inbox = inbox
        self._directory = directory
        self._hs_token = hs_token.encode()
        self._user_exists = user_exists
        self._health = health

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._errors, self._auth], client_max_size=64 * 1024**2)
        app.router.add_put(APP_PREFIX + "/transactions/{txn_id}", self.transaction)
        app.router.add_get(APP_PREFIX + "/users/{user_id}", self.query_user)
        app.router.add_get(APP_PREFIX + "/rooms/{alias}", self.query_room)
        app.router.add_post(APP_PREFIX + "/ping", self.ping)
        app.router.add_get(APP_PREFIX + "/thirdparty/protocol/{protocol}", self.protocol)
        app.router.add_get(APP_PREFIX + "/thirdparty/user/{protocol}", self.thirdparty_users)
        app.router.add_get(APP_PREFIX + "/thirdparty/location/{protocol}", self.no_locations)
        app.router.add_get("/_messenger/health", self.health)
        app.router.add_get(VISIBLE_PATH, self.visible_practices)
        if self._facts is not None:
            app.router.add_post(RECORDS_PATH, self.policy_records)
            app.router.add_get(CHANGES_PATH, self.policy_changes)
            app.router.add_post(PERMISSIONS_PATH, self.invite_permissions)
        if self._thresholds is not None:
            app.router.add_post(LEAVE_THRESHOLD_PATH, self.leave_threshold)
        if self._admin is not None:
            self._admin.routes(app)
        return app

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPMethodNotAllowed:
            return matrix_error(405, "M_UNRECOGNIZED", "Unsupported method")
        except web.HTTPNotFound:
            return matrix_error(404, "M_UNRECOGNIZED", "Unrecognized request")

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(("/_matrix/app/", POLICY_PREFIX)):
            return await handler(request)
        header = request.headers.get("Authorization", "")
        from_header = header[7:].strip() if header.startswith("Bearer ") else None
        from_query = request.query.get("access_token")
        if from_header is not None and from_query is not None and from_header != from_query:
            return matrix_error(403, "M_FORBIDDEN", "Mismatching tokens in header and query")
        token = from_header if from_header is not None else from_query
        if token is None or not hmac.compare_digest(token.encode(), self._hs_token):
            return matrix_error(403, "M_FORBIDDEN", "Bad or missing hs_token")
        return await handler(request)

    async def transaction(self, request: web.Request) -> web.Response:
        txn_id = request.match_info["txn_id"]
        body = await self._json_object(request)
        if isinstance(body, web.Response):
            return body
        events = body.get("events", [])
        if not isinstance(events, list):
            return matrix_error(400, "M_BAD_JSON", "'events' must be a list")
        ephemeral = body.get("ephemeral", [])
        envelopes = [envelope_of(event) for event in events]
        self._storing += 1  # a drain waits for it: Synapse may have queued more behind it
        try:
            duplicate = await self._inbox.accept(txn_id, envelopes)
        finally:
            self._storing -= 1
        log.info(
            "txn %s: %d events, %d ephemeral%s",
            txn_id,
            len(events),
            len(ephemeral) if isinstance(ephemeral, list) else 0,
            " (repeated txn id; events deduplicated by id)" if duplicate else "",
        )
        self._last_transaction = time.monotonic()
        await self._pace.wait(len(events))
        return web.json_response({})

    async def drain(self, quiet_s: float = DRAIN_QUIET_S, limit_s: float = DRAIN_LIMIT_S) -> None:
        """Before the server closes: answer every transaction at once (held ones too) and wait
        until Synapse has sent none for `quiet_s` (it has emptied its queue), at most `limit_s`
        while clients keep sending. What Synapse queues later it stores and sends after we are
        back."""
        self._pace.release()
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline and (
            self._storing or time.monotonic() - self._last_transaction < quiet_s
        ):
            await asyncio.sleep(0.05)

    def end_long_polls(self) -> None:
        """Before the server closes: the module's waiting long polls are answered now."""
        if self._facts is not None:
            self._facts.close()

    async def query_user(self, request: web.Request) -> web.Response:
        if await self._user_exists(request.match_info["user_id"]):
            return web.json_response({})
        return matrix_error(404, "M_NOT_FOUND", "No such user")

    async def query_room(self, _request: web.Request) -> web.Response:
        return matrix_error(404, "M_NOT_FOUND", "No such room alias")

    async def protocol(self, request: web.Request) -> web.Response:
        if request.match_info["protocol"] != thirdparty.PROTOCOL:
            return matrix_error(404, "M_NOT_FOUND", "Unknown protocol")
        return web.json_response(thirdparty.protocol_metadata())

    async def thirdparty_users(self, request: web.Request) -> web.Response:
        if request.match_info["protocol"] != thirdparty.PROTOCOL:
            return matrix_error(404, "M_NOT_FOUND", "Unknown protocol")
        try:
            users = await thirdparty.lookup_users(self._directory, dict(request.query))
        except QueryError as error:
            return matrix_error(400, "M_INVALID_PARAM", str(error))
        return web.json_response(users)

    async def no_locations(self, _request: web.Request) -> web.Response:
        return web.json_response([])

    async def visible_practices(self, _request: web.Request) -> web.Response:
        """For our Synapse module (hs_token): whom the user directory may show."""
        return web.json_response({"matrix_ids": await self._directory.visible_matrix_ids()})

    async def _json_object(self, request: web.Request) -> dict[str, Any] | web.Response:
        """The request's JSON object, or the Matrix error response to send instead."""
        try:
            body = json.loads(await request.read())
        except ValueError:  # includes UnicodeDecodeError
            return matrix_error(400, "M_NOT_JSON", "Content not JSON")
        if not isinstance(body, dict):
            return matrix_error(400, "M_BAD_JSON", "The body must be a JSON object")
        return body

    async def policy_records(self, request: web.Request) -> web.Response:
        """For our Synapse module (hs_token): the policy records of users it has not seen."""
        body = await self._json_object(request)
        if isinstance(body, web.Response):
            return body
        users = body.get("users")
        if not isinstance(users, list) or not all(isinstance(u, str) for u in users):
            return matrix_error(400, "M_BAD_JSON", "users: a list of Matrix user IDs")
        assert self._facts is not None
        return web.json_response(await self._facts.records(users))

    async def policy_changes(self, request: web.Request) -> web.Response:
        """For our Synapse module (hs_token): the records changed after tick `since` (long
        poll: waits up to `wait_ms` for a change)."""
        try:
            since = int(request.query.get("since", "-1"))
            wait_ms = int(request.query.get("wait_ms", "0"))
        except ValueError:
            return matrix_error(400, "M_INVALID_PARAM", "since and wait_ms: whole numbers")
        assert self._facts is not None
        return web.json_response(await self._facts.changes(since, wait_ms / 1000))

    async def invite_permissions(self, request: web.Request) -> web.Response:
        """For our Synapse module (hs_token): a user's invite permission settings."""
        body = await self._json_object(request)
        if isinstance(body, web.Response):
            return body
        user, kind, content = body.get("user_id"), body.get("type"), body.get("content")
        if not isinstance(user, str) or not user.startswith("@"):
            return matrix_error(400, "M_BAD_JSON", "user_id: a Matrix user ID")
        if kind not in PERMISSION_TYPES:
            return matrix_error(400, "M_BAD_JSON", f"type: one of {', '.join(PERMISSION_TYPES)}")
        if content is not None and not isinstance(content, dict):
            return matrix_error(400, "M_BAD_JSON", "content: a JSON object or null")
        if not isinstance(body.get("backfill", False), bool):
            return matrix_error(400, "M_BAD_JSON", "backfill: true or false")
        assert self._facts is not None
        stored = await self._facts.permissions(user, kind, content, body.get("backfill", False))
        return web.json_response({"stored": stored})

    async def leave_threshold(self, request: web.Request) -> web.Response:
        """For our Synapse module (hs_token): a client changed a leave-prompt threshold."""
        body = await self._json_object(request)
        if isinstance(body, web.Response):
            return body
        user = body.get("user_id")
        if not isinstance(user, str) or not user.startswith("@"):
            return matrix_error(400, "M_BAD_JSON", "user_id: a Matrix user ID")
        assert self._thresholds is not None
        accepted = await self._thresholds.from_client(UserID(user), body.get("content"))
        return web.json_response({"accepted": accepted})

    async def ping(self, _request: web.Request) -> web.Response:
        return web.json_response({})

    async def health(self, _request: web.Request) -> web.Response:
        return web.json_response(await self._health())
