"""Synapse alone — as the embedded deployment runs it, without our module and appservice — for
benchmarks that compare against Synapse's own behaviour (bench/load, bench/directory_search)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from messenger.homeserver.synapse_config import REGISTRATION
from tests.system import System, wait_http

PLAIN: dict[str, Any] = {"modules": [], "app_service_config_files": []}


def as_deployed(folder: Path) -> dict[str, Any]:
    """Synapse settings for a test system that make it run as `messenger up` does: only our
    appservice registered. The tests' timestamp appservice (tests/system.py) has no URL, but
    its user namespace `@.*` makes Synapse open, store and complete an appservice transaction
    for every event all the same — bookkeeping that no deployment does."""
    return {"app_service_config_files": [str(folder / "synapse" / REGISTRATION)]}


def plain_system(folder: Path, extra: dict[str, Any] | None = None) -> System:
    return System(folder, extra={**PLAIN, **(extra or {})})


async def register_plain(system: System, name: str) -> dict[str, str]:
    """An account through Synapse's shared-secret registration: user_id, password, access_token."""
    url = system.hs_url + "/_synapse/admin/v1/register"
    password = uuid.uuid4().hex
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            nonce = (await response.json())["nonce"]
        mac = hmac.new(
            system.settings.secrets.registration_shared_secret.encode(), digestmod=hashlib.sha1
        )
        mac.update(b"\x00".join([nonce.encode(), name.encode(), password.encode(), b"notadmin"]))
        body = {"nonce": nonce, "username": name, "password": password, "mac": mac.hexdigest()}
        async with http.post(url, json=body) as response:
            answer = await response.json()
            assert response.status == 200, answer
    return {
        "user_id": answer["user_id"],
        "password": password,
        "access_token": answer["access_token"],
    }


async def start_plain(system: System) -> None:
    system.synapse.start()
    await wait_http(system.hs_url + "/health")
