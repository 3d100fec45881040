"""The back office's HTTP admin API: authenticated, described by a valid OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
from openapi_spec_validator import validate

from tests.directory.samples import vzd_bundle
from tests.system import System, messenger_cli

SEARCH = "/_messenger/admin/v1/directory/search"


async def test_directory_search_needs_the_admin_token(system: System, tmp_path: Path) -> None:
    bundle = tmp_path / "vzd.json"
    bundle.write_text(json.dumps(vzd_bundle()))
    messenger_cli("directory", "import", str(bundle), "--data-dir", str(system.data_dir))
    url = system.as_url + SEARCH
    token = system.settings.secrets.admin_api_token
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params={"q": "Kardiologie"}) as response:
            assert (
                response.status == 401 and (await response.json())["errcode"] == "M_MISSING_TOKEN"
            )
        async with session.get(
            url, params={"q": "Kardiologie"}, headers={"Authorization": "Bearer wrong"}
        ) as response:
            assert response.status == 403
        auth = {"Authorization": f"Bearer {token}"}
        async with session.get(
            url, params={"q": "Kardiologie", "postcode": "101"}, headers=auth
        ) as response:
            body = await response.json()
        assert response.status == 200
        assert [r["matrix_id"] for r in body["results"]] == ["@praxis-weber:kasse.example"]
        async with session.get(
            url, params={"specialty": "kardio", "all": "true"}, headers=auth
        ) as response:
            assert (await response.json())["count"] == 3
        async with session.get(url, params={"q": "x", "limit": "lots"}, headers=auth) as response:
            assert response.status == 400 and "limit" in (await response.json())["error"]
        async with session.get(url, params={"q": "x", "postcode": "abc"}, headers=auth) as response:
            assert response.status == 400 and "postcode" in (await response.json())["error"]


async def test_openapi_document_is_valid(system: System) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(system.as_url + "/_messenger/admin/v1/openapi.json") as response,
    ):
        spec = await response.json()
    validate(spec)
    assert SEARCH in spec["paths"]


async def test_request_expiry_rejects_bad_bodies_and_changes_nothing(system: System) -> None:
    url = system.as_url + "/_messenger/admin/v1/chat-requests/expire"
    auth = {"Authorization": f"Bearer {system.settings.secrets.admin_api_token}"}
    async with aiohttp.ClientSession() as session:
        for body, errcode in ((b"{not json", "M_NOT_JSON"), (b"[1]", "M_BAD_JSON")):
            async with session.post(url, data=body, headers=auth) as response:
                assert response.status == 400
                assert (await response.json())["errcode"] == errcode
        async with session.post(url, headers={"Authorization": "Bearer wrong"}) as response:
            assert response.status == 403
        async with session.post(url, headers=auth) as response:  # empty body: run now
            assert response.status == 200 and "expired" in await response.json()
