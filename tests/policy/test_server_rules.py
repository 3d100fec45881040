"""The server-side rules through the real Synapse: each refused action has no effect, the
allowed one works."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from messenger.policy.permissions import EPA_TYPE, PRO_TYPE
from tests.e2e_client import E2EUser
from tests.system import REMOTE_INSURER, System

CREATE = "/_matrix/client/v3/createRoom"
MEGOLM = {"algorithm": "m.megolm.v1.aes-sha2"}


def rooms_path(room: str, rest: str) -> str:
    return f"/_matrix/client/v3/rooms/{quote(room)}/{rest}"


async def invite(user: E2EUser, room: str, target: str) -> tuple[int, dict[str, Any]]:
    return await user.api("POST", rooms_path(room, "invite"), {"user_id": target})


async def members(user: E2EUser, room: str) -> dict[str, str]:
    _status, body = await user.api("GET", rooms_path(room, "members"))
    return {e["state_key"]: e["content"]["membership"] for e in body.get("chunk", [])}


async def test_insured_persons_never_reach_each_other(system: System, e2e_user: Any) -> None:
    anna = await e2e_user(system.add_account("patient", "Anna Versichert"))
    ben = await e2e_user(system.add_account("patient", "Ben Versichert"))
    status, body = await anna.api("POST", CREATE, {"invite": [ben.user_id]})
    assert status == 403 and "Versicherte können keine anderen Versicherten" in body["error"]
    assert body["de.gesundheitsmessenger.rule"] == "insured-never-reach-insured"

    room = await anna.create_encrypted_room(invite=[])
    status, body = await invite(anna, room, ben.user_id)
    assert status == 403 and "Insured persons cannot contact" in body["error"]
    assert ben.user_id not in await members(anna, room)

    # a practice's room with one patient: a second patient cannot join it
    practice = await e2e_user(system.add_listed_practice("Praxis Gruppe"))
    shared = await practice.create_encrypted_room(invite=[anna.user_id])
    await anna.wait_for(lambda: shared in anna.invites)
    await anna.join(shared)
    status, _ = await invite(practice, shared, ben.user_id)
    assert status == 200  # the practice may invite, but ...
    await ben.wait_for(lambda: shared in ben.invites)
    status, body = await ben.api("POST", f"/_matrix/client/v3/join/{quote(shared)}", {})
    assert status == 403 and "Versicherte" in body["error"]
    assert (await members(practice, shared))[ben.user_id] == "invite"

    # users of another insurer's messenger count as insured persons too
    status, body = await invite(anna, room, f"@someone:{REMOTE_INSURER}")
    assert status == 403 and body["de.gesundheitsmessenger.rule"] == "insured-never-reach-insured"


async def test_patients_reach_only_reachable_practices_and_one_chat_each(
    system: System, e2e_user: Any
) -> None:
    patient = await e2e_user(system.add_account("patient", "Paula Patient"))
    unlisted = system.add_listed_practice("Praxis Verborgen", visible=False)
    no_entry = system.add_account("practice", "Praxis Ohne Eintrag")
    agent = system.add_account("agent", "Agentin")
    for target in (unlisted["user_id"], no_entry["user_id"], agent["user_id"]):
        status, body = await patient.api("POST", CREATE, {"invite": [target]})
        assert status == 403, body
        assert body["de.gesundheitsmessenger.rule"] == "patients-invite-only-reachable-practices"

    practice = await e2e_user(system.add_listed_practice("Praxis Einmalig"))
    first = await patient.create_encrypted_room(invite=[practice.user_id])
    await practice.wait_for(lambda: first in practice.invites)
    await practice.join(first)

    async def shared_room_known() -> None:  # the registry follows the events
        while True:
            status, body = await patient.api("POST", CREATE, {"invite": [practice.user_id]})
            if status == 403:
                assert first in body["error"]
                return
            assert status == 200
            await patient.api("POST", rooms_path(body["room_id"], "leave"), {})
            await asyncio.sleep(0.5)

    await asyncio.wait_for(shared_room_known(), 30)


async def test_room_shape_rules(system: System, e2e_user: Any) -> None:
    patient = await e2e_user(system.add_account("patient", "Rita Regel"))
    practices = [system.add_listed_practice(f"Praxis Form {n}") for n in range(2)]
    two = {"invite": [p["user_id"] for p in practices]}
    status, body = await patient.api("POST", CREATE, two)
    assert status == 400 and "höchstens eine" in body["error"]
    for config in (
        {"preset": "public_chat"},
        {"visibility": "public"},
        {"initial_state": [{"type": "m.room.encryption", "state_key": "", "content": {}}]},
        {
            "initial_state": [
                {"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "knock"}}
            ]
        },
        {
            "initial_state": [
                {
                    "type": "m.room.history_visibility",
                    "state_key": "",
                    "content": {"history_visibility": "world_readable"},
                }
            ]
        },
    ):
        status, body = await patient.api("POST", CREATE, config)
        assert status == 403, (config, body)

    room = await patient.create_encrypted_room(invite=[])
    refused = [
        ("m.room.encryption", {"algorithm": "m.megolm.v1.aes-sha2", "rotation_period_ms": 1}),
        ("m.room.encryption", {}),
        ("m.room.join_rules", {"join_rule": "public"}),
        ("m.room.join_rules", {"join_rule": "knock"}),
        ("m.room.join_rules", {"join_rule": "restricted", "allow": []}),
        ("m.room.history_visibility", {"history_visibility": "world_readable"}),
    ]
    for event_type, content in refused:
        status, body = await patient.api("PUT", rooms_path(room, f"state/{event_type}/"), content)
        assert status == 403, (event_type, content, body)
    status, encryption = await patient.api("GET", rooms_path(room, "state/m.room.encryption/"))
    assert status == 200 and encryption == MEGOLM
    status, state = await patient.api("GET", rooms_path(room, "state"))
    event_id = next(e["event_id"] for e in state if e["type"] == "m.room.encryption")
    status, body = await patient.api(
        "PUT", rooms_path(room, f"redact/{quote(event_id)}/txn-redact-enc"), {}
    )
    assert status == 403 and "verschlüsselt" in body["error"]
    _, rules = await patient.api("GET", rooms_path(room, "state/m.room.join_rules/"))
    assert rules["join_rule"] == "invite"
    status, _ = await patient.api(
        "PUT",
        rooms_path(room, "state/m.room.history_visibility/"),
        {"history_visibility": "joined"},
    )
    assert status == 200  # allowed changes still work

    status, body = await patient.api(
        "PUT", f"/_matrix/client/v3/directory/list/room/{quote(room)}", {"visibility": "public"}
    )
    assert status == 403


async def test_permission_settings_honoured_for_received_invites(
    system: System, e2e_user: Any
) -> None:
    patient = await e2e_user(system.add_account("patient", "Greta Grenze"))
    practice = await e2e_user(system.add_listed_practice("Praxis Auswahl"))
    settings_path = f"/_matrix/client/v3/user/{quote(practice.user_id)}/account_data/{PRO_TYPE}"
    status, _ = await practice.api("PUT", settings_path, {"defaultSetting": "block all"})
    assert status == 200
    status, body = await patient.api("POST", CREATE, {"invite": [practice.user_id]})
    assert status == 403 and body["de.gesundheitsmessenger.rule"] == "invitee-permission-settings"
    await practice.api(
        "PUT",
        settings_path,
        {"defaultSetting": "block all", "userExceptions": {patient.user_id: {}}},
    )
    status, body = await patient.api("POST", CREATE, {"invite": [practice.user_id]})
    assert status == 200, body

    other = await e2e_user(system.add_listed_practice("Praxis Fremd"))
    patient_path = f"/_matrix/client/v3/user/{quote(patient.user_id)}/account_data/{EPA_TYPE}"
    await patient.api("PUT", patient_path, {"defaultSetting": "allow all",
                                            "userExceptions": {other.user_id: {}}})  # fmt: skip
    status, body = await other.api("POST", CREATE, {"invite": [patient.user_id]})
    assert status == 403 and body["de.gesundheitsmessenger.rule"] == "invitee-permission-settings"
    await patient.api("PUT", patient_path, {"defaultSetting": "nonsense"})  # malformed: ignored
    status, body = await other.api("POST", CREATE, {"invite": [patient.user_id]})
    assert status == 200, body


async def test_patient_invites_fail_closed_when_the_appservice_is_down(
    system: System, e2e_user: Any
) -> None:
    patient = await e2e_user(system.add_account("patient", "Olga Ausfall"))
    practice = system.add_listed_practice("Praxis Ausfall")
    await system.policy_caught_up()  # the module holds the patient's facts in memory ...
    system.appservice.kill()
    try:  # ... and drops them once it notices it cannot follow the changes any more
        for _ in range(100):
            if not (await system.policy_status())["facts"]["following"]:
                break
            await asyncio.sleep(0.05)
        status, body = await patient.api("POST", CREATE, {"invite": [practice["user_id"]]})
        assert status == 403 and "nicht prüfen" in body["error"]
    finally:
        await system.start_appservice()
    status, body = await patient.api("POST", CREATE, {"invite": [practice["user_id"]]})
    assert status == 200, body
