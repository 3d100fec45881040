"""Edge: the admin API routes. Bearer-token auth (constant time); handlers do the work."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from messenger.admin.accounts_api import AccountsApi, error, json_object
from messenger.admin.openapi import PREFIX, document
from messenger.directory.query import QueryError, parse_free_text
from messenger.directory.render import row_json
from messenger.directory.search import ProviderDirectory
from messenger.requests.handler import ChatRequestHandler

AS_OF_HINT = "as_of: an ISO 8601 time with offset, e.g. 2026-12-01T08:00:00+01:00"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class AdminApi:
    def __init__(
        self, token: str, directory: ProviderDirectory, requests: ChatRequestHandler | None = None,
        accounts: AccountsApi | None = None,
    ) -> None:  # fmt: skip
        self._token = token.encode()
        self._directory = directory
        self._requests = requests
        self._accounts = accounts

    def routes(self, app: web.Application) -> None:
        app.router.add_get(PREFIX + "/openapi.json", self.openapi)
        app.router.add_get(PREFIX + "/directory/search", self._authenticated(self.search))
        if self._requests is not None:
            app.router.add_post(
                PREFIX + "/chat-requests/expire", self._authenticated(self.expire_requests)
            )
        if self._accounts is not None:
            self._accounts.routes(app, PREFIX, self._authenticated)

    def _authenticated(self, handler: Handler) -> Handler:
        async def check(request: web.Request) -> web.StreamResponse:
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return error(401, "M_MISSING_TOKEN", "send Authorization: Bearer <admin_api_token>")
            if not hmac.compare_digest(header[7:].strip().encode(), self._token):
                return error(403, "M_FORBIDDEN", "wrong admin API token")
            return await handler(request)

        return check

    async def openapi(self, _request: web.Request) -> web.Response:
        return web.json_response(document())

    async def search(self, request: web.Request) -> web.Response:
        params = request.query
        try:
            limit = _int(params.get("limit", "20"), "limit")
            offset = _int(params.get("offset", "0"), "offset")
            show_all = params.get("all", "false").lower()
            if show_all not in ("true", "false"):
                raise QueryError("all: true or false")
            query = parse_free_text(
                params.get("q", ""),
                postcode=params.get("postcode") or None,
                city=params.get("city") or None,
                specialty=params.get("specialty") or None,
                limit=limit,
                offset=offset,
                include_hidden=show_all == "true",
            )
        except QueryError as refused:
            return error(400, "M_INVALID_PARAM", str(refused))
        rows = await self._directory.search(query)
        return web.json_response({"results": [row_json(row) for row in rows], "count": len(rows)})

    async def expire_requests(self, request: web.Request) -> web.Response:
        """Run the expiry pass now, optionally as of a later time (`as_of`, ISO 8601 with
        offset): operators catching up after an outage, and tests with a controlled clock."""
        assert self._requests is not None
        body = await json_object(request, '{"as_of": "…"} or empty')
        if isinstance(body, web.Response):
            return body
        as_of = body.get("as_of")
        now: int | None = None
        if as_of is not None:
            try:
                moment = dt.datetime.fromisoformat(str(as_of))
                if moment.tzinfo is None:
                    raise ValueError("no offset")
            except ValueError:
                return error(400, "M_INVALID_PARAM", AS_OF_HINT)
            now = int(moment.timestamp() * 1000)
        result = await self._requests.expire_due(now)
        return web.json_response(
            {
                "expired": result.expired,
                "rescinded": result.rescinded,
                "failed": result.failed,
                "accepted": result.accepted,
            }
        )


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise QueryError(f"{name}: a whole number") from None
