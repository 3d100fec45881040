"""The module decides invites from the facts it holds in memory, and every change reaches that
memory through the policy-change log (real Synapse, real appservice): no facts fetch per
invite, the request limits bite at once, and a user it has not seen is fetched once."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from messenger.db.schema import invite_permissions
from messenger.db.stores import chat_requests, policy_changes
from messenger.db.stores import invite_permissions as invite_permissions_store
from messenger.policy.permissions import PRO_TYPE
from tests.requests.test_lifecycle import request_state
from tests.system import System

CREATE = "/_matrix/client/v3/createRoom"


async def test_invites_are_decided_from_memory_kept_current_by_the_change_log(
    system: System, e2e_user: Any
) -> None:
    practices = [system.add_listed_practice(f"Praxis Gedächtnis {n}") for n in range(3)]
    patient = await e2e_user(system.add_account("patient", "Merk Würdig"))
    caught_up = await system.policy_caught_up()
    before, reads = caught_up["facts"], caught_up["permission_reads"]["count"]
    assert before["following"] and before["held"] >= 1

    rooms = [await patient.create_encrypted_room(invite=[p["user_id"]]) for p in practices[:2]]
    for room in rooms:
        await request_state(system, room, "pending")
    await system.policy_caught_up()
    # the test system allows two open requests: the third is refused from the pushed counts
    status, body = await patient.api("POST", CREATE, {"invite": [practices[2]["user_id"]]})
    assert status == 403 and body["de.gesundheitsmessenger.rule"] == "chat-request-limits"

    await patient.client.room_kick(rooms[0], practices[0]["user_id"])  # withdraw one
    await request_state(system, rooms[0], "withdrawn")
    await system.policy_caught_up()
    status, body = await patient.api("POST", CREATE, {"invite": [practices[2]["user_id"]]})
    assert status == 200, body
    after = (await system.policy_status())["facts"]
    assert after["fetches"] == before["fetches"]  # four decisions, none asked the appservice
    # ... nor read the practices' permission settings from Synapse (new accounts have none,
    # and changes come through the log)
    assert (await system.policy_status())["permission_reads"]["count"] == reads

    # somebody the module has never seen (no account here, not in the directory): fetched once
    stranger = "@fremd:elsewhere.example"
    room = await patient.create_encrypted_room(invite=[])
    for _ in range(2):
        status, body = await patient.api(
            "POST", f"/_matrix/client/v3/rooms/{quote(room)}/invite", {"user_id": stranger}
        )
        assert status == 403
        assert body["de.gesundheitsmessenger.rule"] == "patients-invite-only-reachable-practices"
    assert (await system.policy_status())["facts"]["fetches"] == after["fetches"] + 1


async def test_a_burst_of_requests_cannot_pass_the_open_request_limit(
    system: System, e2e_user: Any
) -> None:
    """Requests sent at once are decided before the appservice has seen any of them (it learns
    of a request from the invite event, the module from the change log after that): the module
    counts what it let through itself, and stops counting it once the record shows it."""
    practices = [system.add_listed_practice(f"Praxis Ansturm {n}") for n in range(3)]
    patient = await e2e_user(system.add_account("patient", "Eilig Frager"))
    await system.policy_caught_up()
    answers = await asyncio.gather(
        *(patient.api("POST", CREATE, {"invite": [p["user_id"]]}) for p in practices)
    )
    allowed = [body["room_id"] for status, body in answers if status == 200]
    refused = [body for status, body in answers if status != 200]
    assert len(allowed) == 2, answers  # the test system allows two open requests
    assert all(b["de.gesundheitsmessenger.rule"] == "chat-request-limits" for b in refused)
    for room in allowed:
        await request_state(system, room, "pending")
    async with system.db.reading() as conn:
        opened = await chat_requests.open_and_started(conn, patient.user_id, 0)
    assert opened[0] == 2 and len(opened[1]) == 2

    # once the record shows the two, they are not counted twice: withdrawing one frees a place
    refused_practice = next(
        p["user_id"] for p, (status, _b) in zip(practices, answers, strict=True) if status != 200
    )
    await system.policy_caught_up()
    status, body = await patient.api("POST", CREATE, {"invite": [refused_practice]})
    assert status == 403 and body["de.gesundheitsmessenger.rule"] == "chat-request-limits"
    await patient.client.room_leave(allowed[0])
    await request_state(system, allowed[0], "withdrawn")
    await system.policy_caught_up()
    status, body = await patient.api("POST", CREATE, {"invite": [refused_practice]})
    assert status == 200, body


async def test_permission_settings_unknown_to_the_appservice_are_read_once_and_passed_on(
    system: System, e2e_user: Any
) -> None:
    """An account from before the appservice kept permission settings: its first invite reads
    Synapse's account data, which then goes to the appservice; the next invite needs no read."""
    practice = await e2e_user(system.add_listed_practice("Praxis Altbestand"))
    path = f"/_matrix/client/v3/user/{quote(practice.user_id)}/account_data/{PRO_TYPE}"
    status, _ = await practice.api("PUT", path, {"defaultSetting": "block all"})
    assert status == 200
    async with system.db.transaction() as conn:  # as if it had never been passed on
        await conn.execute(
            invite_permissions.delete().where(invite_permissions.c.user_id == practice.user_id)
        )
        policy_changes.note(conn, practice.user_id)
    reads = (await system.policy_caught_up())["permission_reads"]["count"]
    for name in ("Anna Alt", "Bert Alt"):
        patient = await e2e_user(system.add_account("patient", name))
        status, body = await patient.api("POST", CREATE, {"invite": [practice.user_id]})
        assert (
            status == 403 and body["de.gesundheitsmessenger.rule"] == "invitee-permission-settings"
        )
        await system.policy_caught_up()
    assert (await system.policy_status())["permission_reads"]["count"] == reads + 1
    async with system.db.reading() as conn:
        stored = await invite_permissions_store.of_user(conn, practice.user_id)
    assert stored == {PRO_TYPE: {"defaultSetting": "block all"}}
