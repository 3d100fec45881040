"""A test OpenID Connect provider (the insurer's IdP): /authorize answers at once for the
subject the test chose, /token and /userinfo as Synapse calls them."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from aiohttp import web


class FakeIdP:
    def __init__(self, port: int) -> None:
        self.port = port
        self.subject = ""
        self._codes: dict[str, str] = {}
        self._tokens: dict[str, str] = {}
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_get("/userinfo", self._userinfo)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _authorize(self, request: web.Request) -> web.Response:
        code = uuid.uuid4().hex
        self._codes[code] = self.subject  # the user "logged in" at the IdP
        query = urlencode({"code": code, "state": request.query["state"]})
        raise web.HTTPFound(f"{request.query['redirect_uri']}?{query}")

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        subject = self._codes.pop(str(form.get("code")), None)
        if subject is None:
            return web.json_response({"error": "invalid_grant"}, status=400)
        token = uuid.uuid4().hex
        self._tokens[token] = subject
        return web.json_response({"access_token": token, "token_type": "Bearer", "expires_in": 60})

    async def _userinfo(self, request: web.Request) -> web.Response:
        subject = self._tokens.get(request.headers.get("Authorization", "").removeprefix("Bearer "))
        if subject is None:
            return web.json_response({"error": "invalid_token"}, status=401)
        return web.json_response({"sub": subject})
