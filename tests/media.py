"""Encrypted attachments as E2EE clients send and read them (nio's attachment crypto, the
authenticated media API)."""

from __future__ import annotations

from typing import Any

import aiohttp
from nio.crypto.attachments import decrypt_attachment, encrypt_attachment

from tests.e2e_client import E2EUser
from tests.system import System


async def upload_encrypted(system: System, user: E2EUser, data: bytes, name: str) -> dict[str, Any]:
    """An encrypted attachment as E2EE clients send it: the file dict of the message."""
    ciphertext, keys = encrypt_attachment(data)
    async with aiohttp.ClientSession() as session, session.post(
        f"{system.hs_url}/_matrix/media/v3/upload?filename={name}", data=ciphertext,
        headers={"Authorization": f"Bearer {user.client.access_token}",
                 "Content-Type": "application/octet-stream"},
    ) as response:  # fmt: skip
        mxc = (await response.json())["content_uri"]
    return {"url": mxc, "key": keys["key"], "iv": keys["iv"], "hashes": keys["hashes"], "v": "v2"}


async def download_decrypted(system: System, user: E2EUser, file: dict[str, Any]) -> bytes:
    server, media_id = file["url"].removeprefix("mxc://").split("/")
    async with aiohttp.ClientSession() as session, session.get(
        f"{system.hs_url}/_matrix/client/v1/media/download/{server}/{media_id}",
        headers={"Authorization": f"Bearer {user.client.access_token}"},
    ) as response:  # fmt: skip
        assert response.status == 200, await response.text()
        ciphertext = await response.read()
    return bytes(
        decrypt_attachment(ciphertext, file["key"]["k"], file["hashes"]["sha256"], file["iv"])
    )
