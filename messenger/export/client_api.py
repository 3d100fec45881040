"""The exporter's calls to the user's homeserver (client-server API, as the user)."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

import aiohttp

from messenger.export.errors import ExportError

V1, V3 = "/_matrix/client/v1", "/_matrix/client/v3"
MEDIA = "/_matrix/client/v1/media"


def q(value: str) -> str:
    return quote(value, safe="")


class ApiError(ExportError):
    def __init__(self, status: int, errcode: str, message: str) -> None:
        super().__init__(f"{message} ({errcode}, HTTP {status})")
        self.status = status
        self.errcode = errcode


class ClientApi:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def json(
        self, method: str, path: str, body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        for attempt in range(6):
            try:
                async with self._http().request(
                    method, self.base_url + path, json=body, params=params,
                    headers=self._headers(),
                ) as response:  # fmt: skip
                    text = await response.text()
                    data = json.loads(text) if text else {}
                    if response.status == 429 and attempt < 5:
                        await asyncio.sleep(
                            min(float(data.get("retry_after_ms", 1000)), 5000) / 1000
                        )
                        continue
                    if response.status >= 400:
                        raise ApiError(response.status, str(data.get("errcode", "?")),
                                       str(data.get("error", response.reason)))  # fmt: skip
                    return data if isinstance(data, dict) else {}
            except aiohttp.ClientError as error:
                if attempt == 5:
                    raise ExportError(
                        f"homeserver {self.base_url} not reachable: {error}"
                    ) from error
                await asyncio.sleep(0.5 * (attempt + 1))
            except ValueError as error:
                raise ExportError(f"{self.base_url} answered no JSON on {path}") from error
        raise ExportError(f"homeserver {self.base_url}: too many retries on {path}")

    async def upload(self, data: bytes, filename: str) -> str:
        """Upload (already encrypted) bytes; the mxc:// address."""
        async with self._http().post(
            f"{self.base_url}/_matrix/media/v3/upload", params={"filename": filename}, data=data,
            headers={**self._headers(), "Content-Type": "application/octet-stream"},
        ) as response:  # fmt: skip
            answer = await response.json(content_type=None)
            if response.status >= 400:
                raise ApiError(response.status, str(answer.get("errcode", "?")),
                               str(answer.get("error", "upload refused")))  # fmt: skip
            return str(answer["content_uri"])

    async def media(self, mxc: str) -> bytes:
        """The (still encrypted) bytes of a file, through the authenticated media API."""
        if not mxc.startswith("mxc://") or "/" not in mxc[6:]:
            raise ExportError(f"not a media address: {mxc!r}")
        server, _, media_id = mxc[6:].partition("/")
        path = f"{MEDIA}/download/{q(server)}/{q(media_id)}"
        for attempt in range(4):
            try:
                async with self._http().get(self.base_url + path, headers=self._headers()) as r:
                    if r.status >= 400:
                        raise ApiError(r.status, "M_MEDIA", f"file {mxc} not downloadable")
                    return await r.read()
            except aiohttp.ClientError as error:
                if attempt == 3:
                    raise ExportError(f"file {mxc} not downloadable: {error}") from error
                await asyncio.sleep(0.5 * (attempt + 1))
        raise ExportError(f"file {mxc} not downloadable")


async def discover(user_id: str) -> str:
    """The client base URL of a user's server from its .well-known (else https://server)."""
    server = user_id.partition(":")[2]
    if not server:
        raise ExportError(f"--user: {user_id!r} is not a Matrix ID like @name:server")
    fallback = f"https://{server}"
    api = ClientApi(fallback)
    try:
        known = await api.json("GET", "/.well-known/matrix/client")
        return str((known.get("m.homeserver") or {}).get("base_url") or fallback)
    except ExportError:
        return fallback
    finally:
        await api.close()
