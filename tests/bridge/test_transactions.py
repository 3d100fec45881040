"""The Application Service API as Synapse (and an attacker) meets it."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
import pytest

from messenger.db.stores import inbox, registry
from tests.system import System


def _event(room: str, sender: str, n: int) -> dict[str, Any]:
    return {
        "event_id": f"$test-{uuid.uuid4().hex}-{n}",
        "room_id": room,
        "sender": sender,
        "type": "m.room.encrypted",
        "origin_server_ts": 1_700_000_000_000 + n,
        "content": {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "opaque"},
    }


async def _put(
    system: System, txn: str, body: Any, token: str | None = "hs", raw: bytes | None = None
) -> tuple[int, dict[str, Any]]:
    headers = {}
    if token == "hs":
        headers["Authorization"] = f"Bearer {system.settings.secrets.hs_token}"
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with (
        aiohttp.ClientSession() as session,
        session.put(
            f"{system.as_url}/_matrix/app/v1/transactions/{txn}",
            json=None if raw is not None else body,
            data=raw,
            headers=headers,
        ) as response,
    ):
        return response.status, await response.json(content_type=None)


async def _room_messages(system: System, room: str) -> int:
    async with system.db.transaction() as conn:
        row = await registry.get_room(conn, room)
    return row.message_count if row else 0


async def _until(check: Any, timeout: float = 20) -> None:
    async def loop() -> None:
        while not await check():
            await asyncio.sleep(0.2)

    await asyncio.wait_for(loop(), timeout)


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_wrong_or_missing_token_is_forbidden_and_stores_nothing(
    system: System, token: str | None
) -> None:
    room = f"!auth-{uuid.uuid4().hex}:localhost"
    status, body = await _put(
        system, f"t-{uuid.uuid4().hex}", {"events": [_event(room, "@a:localhost", 1)]}, token=token
    )
    assert status == 403 and body["errcode"] == "M_FORBIDDEN"
    await asyncio.sleep(0.5)
    assert await _room_messages(system, room) == 0


async def test_legacy_query_token_must_match_header(system: System) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.put(
            f"{system.as_url}/_matrix/app/v1/transactions/t-{uuid.uuid4().hex}",
            params={"access_token": "other"},
            json={"events": []},
            headers={"Authorization": f"Bearer {system.settings.secrets.hs_token}"},
        ) as response,
    ):
        assert response.status == 403


async def test_duplicate_transaction_is_a_no_op(system: System) -> None:
    room = f"!dup-{uuid.uuid4().hex}:localhost"
    txn = f"t-{uuid.uuid4().hex}"
    body = {"events": [_event(room, "@a:localhost", 1), _event(room, "@a:localhost", 2)]}
    assert (await _put(system, txn, body)) == (200, {})
    assert (await _put(system, txn, body)) == (200, {})

    async def two() -> bool:
        return await _room_messages(system, room) == 2

    await _until(two)
    await asyncio.sleep(1)
    assert await _room_messages(system, room) == 2


@pytest.mark.parametrize(
    ("raw", "errcode"),
    [(b"{not json", "M_NOT_JSON"), (b"[1, 2]", "M_BAD_JSON"), (b'{"events": {}}', "M_BAD_JSON")],
)
async def test_malformed_body_is_a_400(system: System, raw: bytes, errcode: str) -> None:
    status, body = await _put(system, f"t-{uuid.uuid4().hex}", None, raw=raw)
    assert status == 400 and body["errcode"] == errcode


async def test_event_of_unknown_shape_is_skipped_and_the_rest_processed(system: System) -> None:
    room = f"!shape-{uuid.uuid4().hex}:localhost"
    bad_id = f"$bad-{uuid.uuid4().hex}"
    events = [
        "not an event",
        {"event_id": bad_id, "type": "m.room.encrypted"},  # lacks room, sender, time
        _event(room, "@a:localhost", 1),
        _event(room, "@a:localhost", 2),
    ]
    assert (await _put(system, f"t-{uuid.uuid4().hex}", {"events": events})) == (200, {})

    async def done() -> bool:
        return await _room_messages(system, room) == 2

    await _until(done)
    async with system.db.transaction() as conn:
        failures = dict(await inbox.failures(conn))
    assert "room_id" in failures[bad_id] and "sender" in failures[bad_id]


async def test_unknown_routes_and_methods(system: System) -> None:
    headers = {"Authorization": f"Bearer {system.settings.secrets.hs_token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(f"{system.as_url}/_matrix/app/v1/nothing-here") as response:
            assert response.status == 404
            assert (await response.json())["errcode"] == "M_UNRECOGNIZED"
        async with session.get(f"{system.as_url}/_matrix/app/v1/ping") as response:
            assert response.status == 405
            assert (await response.json())["errcode"] == "M_UNRECOGNIZED"
        async with session.get(
            f"{system.as_url}/_matrix/app/v1/users/@_messenger_nobody:localhost"
        ) as response:
            assert response.status == 404
        async with session.get(
            f"{system.as_url}/_matrix/app/v1/rooms/%23_messenger_x:localhost"
        ) as response:
            assert response.status == 404


async def test_homeserver_ping_reaches_the_appservice(system: System) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{system.hs_url}/_matrix/client/v1/appservice/{system.settings.config.appservice.id}/ping",
            json={"transaction_id": "probe"},
            headers={"Authorization": f"Bearer {system.settings.secrets.as_token}"},
        ) as response,
    ):
        assert response.status == 200
        assert "duration_ms" in await response.json()
