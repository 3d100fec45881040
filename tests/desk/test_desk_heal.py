"""The desk makes its rooms anew when the homeserver no longer has them.

Before the cleanup of never-used rooms spared bot rooms, it deleted the queue and supervisors'
rooms of a desk no agent had joined yet, and insurer channels a patient had not opened: the
desk kept the dead room ids and could invite nobody. At its start the appservice now asks the
homeserver which rooms the desk bot is in and replaces the ones that are gone - and only those.
Against a system of its own: it deletes the desk's rooms."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import quote

from messenger.db.stores import desk as desk_store
from tests.system import System, admin_token, json_request

ADMIN_V2 = "/_synapse/admin/v2/rooms"


async def _delete(system: System, token: str, room: str) -> None:
    """Delete and purge a room on Synapse, as the old cleanup did, and wait until it is gone."""
    url = f"{system.hs_url}{ADMIN_V2}/{quote(room)}"
    status, answer = await json_request("DELETE", url, token, {"purge": True, "block": False})
    assert status == 200, answer
    url = f"{system.hs_url}{ADMIN_V2}/delete_status/{quote(answer['delete_id'])}"
    for _ in range(240):
        status, state = await json_request("GET", url, token)
        if state.get("status") == "complete":
            return
        assert state.get("status") != "failed", state
        await asyncio.sleep(0.25)
    raise AssertionError(f"room {room} not deleted in time: {state}")


async def _memberships(system: System, token: str, room: str) -> dict[str, str]:
    url = f"{system.hs_url}/_synapse/admin/v1/rooms/{quote(room)}/state"
    status, answer = await json_request("GET", url, token)
    assert status == 200, answer
    return {
        event["state_key"]: event["content"]["membership"]
        for event in answer["state"]
        if event["type"] == "m.room.member"
    }


async def _desk_rooms(system: System, patient: str) -> tuple[str | None, str | None, str | None]:
    async with system.db.reading() as conn:
        channel = await desk_store.channel_of_patient(conn, patient)
        return (
            await desk_store.desk_room(conn, "queue"),
            await desk_store.desk_room(conn, "supervisors"),
            channel.room_id if channel else None,
        )


def _logged(system: System, line: str) -> int:
    log = system.data_dir / "logs" / "appservice.log"
    return log.read_text(encoding="utf-8").count(line) if log.exists() else 0


async def _until_logged(system: System, line: str, times: int) -> None:
    for _ in range(240):
        if _logged(system, line) >= times:
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"the appservice did not log {line!r} {times} times")


STAFF_CHECKED = "desk: staff rooms checked"
REPLACED_ONE = "replaced 1 insurer channels the homeserver no longer had"


async def test_desk_rooms_and_a_channel_gone_from_the_homeserver_are_made_anew_at_start(
    tmp_path: Path,
) -> None:
    system = System(tmp_path / "system")
    await system.start()
    try:
        cfg = system.settings.config
        desk_bot = cfg.bot_user_id(cfg.bots.desk)
        supervisor = system.add_account("supervisor", "Sabine Heil")["user_id"]
        patient = system.add_account("patient", "Paula Heil")["user_id"]
        other = system.add_account("patient", "Otto Heil")["user_id"]
        queue, supervisors, channel = await _desk_rooms(system, patient)
        _, _, other_channel = await _desk_rooms(system, other)
        assert queue and supervisors and channel and other_channel
        token = await admin_token(system)
        checked = _logged(system, STAFF_CHECKED)
        assert checked >= 1

        system.appservice.stop()
        for room in (queue, channel):  # the supervisors' room and the other channel stay
            await _delete(system, token, room)
        await system.start_appservice()
        await _until_logged(system, STAFF_CHECKED, checked + 1)
        await _until_logged(system, REPLACED_ONE, 1)

        new_queue, kept_supervisors, new_channel = await _desk_rooms(system, patient)
        assert new_queue is not None and new_queue != queue
        assert kept_supervisors == supervisors  # still on the homeserver: kept
        assert (await _desk_rooms(system, other))[2] == other_channel  # kept
        members = await _memberships(system, token, new_queue)
        assert members.get(desk_bot) == "join", members
        assert members.get(supervisor) == "invite", members  # the staff invited again

        assert new_channel is not None and new_channel != channel
        members = await _memberships(system, token, new_channel)
        assert members.get(desk_bot) == "join", members
        assert members.get(patient) == "invite", members
        async with system.db.reading() as conn:
            row = await desk_store.channel_of_patient(conn, patient)
        assert row is not None and row.greeted_at is None  # greeted when the patient joins
    finally:
        await system.stop()
