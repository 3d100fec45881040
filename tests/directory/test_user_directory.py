"""Element's "Start chat" uses Synapse's user directory: it finds listed practices that accept
requests, and never another insured person."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from messenger.bridge.homeserver_client import HomeserverClient
from messenger.directory.search import ProviderDirectory
from tests.system import System, messenger_cli


async def _search(system: System, token: str, term: str) -> list[str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{system.hs_url}/_matrix/client/v3/user_directory/search",
            json={"search_term": term, "limit": 10},
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        body: dict[str, Any] = await response.json()
    return [hit["user_id"] for hit in body["results"]]


async def _module_status(system: System) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{system.hs_url}/_synapse/client/messenger/policy") as response,
    ):
        status: dict[str, Any] = await response.json()
    return status


async def _eventually(check: Any, diagnose: Any, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached in {timeout} s: {await diagnose()}")
        await asyncio.sleep(0.5)


async def test_user_directory_shows_listed_practices_and_never_patients(
    system: System, e2e_user, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    username = f"praxis-ud-{tag}"
    practice_id = f"@{username}:{system.settings.config.homeserver.server_name}"
    system.add_account("practice", f"Praxis Regenbogen {tag}", "--username", username)
    other_patient = system.add_account("patient", f"Zebulon Versichert {tag}")
    searcher = await e2e_user(system.add_account("patient", f"Suchende {tag}"))
    token = searcher.client.access_token

    # before the practice is in the directory it cannot be found; the other patient never
    await asyncio.sleep(1)
    assert await _search(system, token, f"Regenbogen {tag}") == []
    listing = tmp_path / "ud.csv"
    listing.write_text(
        "id,matrix_id,name,specialty,street,postcode,city\n"
        f"u1,{practice_id},Praxis Regenbogen,Hausarzt,Weg 1,10115,Berlin\n"
    )
    messenger_cli("directory", "import", str(listing), "--data-dir", str(system.data_dir))

    async def practice_found() -> bool:
        return await _search(system, token, f"Regenbogen {tag}") == [practice_id]

    async def diagnose() -> str:
        return (
            f"module {await _module_status(system)}; "
            f"search {await _search(system, token, f'Regenbogen {tag}')}"
        )

    await _eventually(practice_found, diagnose)
    assert await _search(system, token, f"Zebulon {tag}") == []
    assert await _search(system, token, other_patient["user_id"][1:].split(":")[0]) == []

    # the practice stops accepting requests: gone from the user directory at once
    await ProviderDirectory(system.db).set_practice_settings(practice_id, accepting=False)
    async with HomeserverClient(system.hs_url, system.settings.secrets.as_token, "x") as hs:
        await hs.refresh_policy()  # what the appservice does after every settings change
    assert await _search(system, token, f"Regenbogen {tag}") == []


async def test_refresh_needs_the_appservice_token(system: System) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{system.hs_url}/_synapse/client/messenger/policy/refresh",
            json={},
            headers={"Authorization": "Bearer wrong"},
        ) as response,
    ):
        assert response.status == 403
