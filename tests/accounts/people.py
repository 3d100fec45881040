"""Fresh valid KVNRs (each test its own) and the admin API as the back office calls it."""

from __future__ import annotations

import itertools
import random
from typing import Any

import aiohttp

from messenger.kvnr import check_digit
from tests.system import System

_numbers = itertools.count(random.randrange(10_000_000, 90_000_000))


def new_kvnr(letter: str = "K") -> str:
    digits = f"{next(_numbers):08d}"
    return f"{letter}{digits}{check_digit(letter, digits)}"


async def admin_api(
    system: System, method: str, path: str, body: Any = None, token: str | None = "default",
    raw: str | None = None,
) -> tuple[int, Any]:  # fmt: skip
    """(status, JSON) of an admin API call; token None: no header; raw: a body sent as is."""
    key = system.settings.secrets.admin_api_token if token == "default" else token
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    url = f"{system.as_url}/_messenger/admin/v1{path}"
    async with aiohttp.ClientSession() as http:
        kwargs: dict[str, Any] = (
            {"data": raw, "headers": {**headers, "Content-Type": "application/json"}}
            if raw is not None
            else {"json": body, "headers": headers}
        )
        async with http.request(method, url, **kwargs) as response:
            return response.status, await response.json(content_type=None)
