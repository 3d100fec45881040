"""The desk makes its rooms anew when the homeserver no longer has them.

Before the cleanup of never-used rooms spared bot rooms, it deleted the queue and supervisors'
rooms of a desk no agent had joined yet, and insurer channels a patient had not opened: the
desk kept the dead room ids and could invite nobody. At every start the appservice asks the
homeserver about the two staff rooms; the insurer channels (one per insured person: every room
of the desk bot) are searched at start only until one search has succeeded - an upgraded system
mends what the old cleanup deleted - and afterwards by hand. Only gone rooms are replaced.
Against a system of its own: it deletes the desk's rooms."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from messenger.app import MEND_SKIPPED
from messenger.bridge.admin_account import AdminToken
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.db.database import now_ms
from messenger.db.schema import desk_outbox, job_runs
from messenger.db.stores import desk as desk_store
from messenger.desk import rooms as desk_rooms
from messenger.desk.channel_mend import ChannelMend, ChannelsNotMended
from messenger.desk.desk import QUEUE_POST
from messenger.retention.context import JobContext
from messenger.retention.jobs import MEND_CHANNELS
from tests.system import System, admin_token, json_request, messenger_cli

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


async def _state(system: System, token: str, room: str) -> list[dict[str, Any]]:
    url = f"{system.hs_url}/_synapse/admin/v1/rooms/{quote(room)}/state"
    status, answer = await json_request("GET", url, token)
    assert status == 200, answer
    return list(answer["state"])


async def _memberships(system: System, token: str, room: str) -> dict[str, str]:
    return {
        event["state_key"]: event["content"]["membership"]
        for event in await _state(system, token, room)
        if event["type"] == "m.room.member"
    }


async def _queue_post(system: System, ticket_id: int) -> tuple[str, str] | None:
    """The room and event id of the ticket's entry in the queue, once sent."""
    async with system.db.reading() as conn:
        ticket = await desk_store.ticket(conn, ticket_id)
        assert ticket is not None
        rows = await conn.execute(
            sa.select(desk_outbox.c.room_id, desk_outbox.c.event_id).where(
                desk_outbox.c.ticket_id == ticket_id, desk_outbox.c.purpose == QUEUE_POST,
                desk_outbox.c.event_id == ticket.queue_event_id,
            )
        )  # fmt: skip
        row = rows.first()
    return None if row is None else (str(row.room_id), str(row.event_id))


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
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = System(tmp_path / "system")
    await system.start()
    try:
        cfg = system.settings.config
        desk_bot = cfg.bot_user_id(cfg.bots.desk)
        supervisor = system.add_account("supervisor", "Sabine Heil")["user_id"]
        patient = system.add_account("patient", "Paula Heil")["user_id"]
        other = system.add_account("patient", "Otto Heil")["user_id"]
        third = system.add_account("patient", "Petra Heil")["user_id"]
        queue, supervisors, channel = await _desk_rooms(system, patient)
        _, _, other_channel = await _desk_rooms(system, other)
        assert queue and supervisors and channel and other_channel
        token = await admin_token(system)
        await _until_logged(system, STAFF_CHECKED, 1)
        checked = _logged(system, STAFF_CHECKED)
        async with system.db.transaction() as conn:  # a ticket waiting in the queue; a hold
            now = now_ms()
            waiting = await desk_store.create_ticket(
                conn, patient_id=other, channel_room_id=other_channel, topic=None,
                status=desk_store.OPEN, created_at=now, opened_at=now, last_activity_at=now,
                queue_event_id="$in-the-old-queue",
            )  # fmt: skip
            await desk_store.update_channel(conn, patient, hold=True)
            # a database from before the search ran once at start: it has no record of it
            await conn.execute(job_runs.delete().where(job_runs.c.name == MEND_CHANNELS))

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
        retention = [e for e in await _state(system, token, new_channel)
                     if e["type"] == "m.room.retention"]  # fmt: skip
        assert [e["content"] for e in retention] == [{}]  # on hold: no purge policy

        for _ in range(240):  # the waiting ticket is posted in the new queue
            posted = await _queue_post(system, waiting)
            if posted is not None:
                break
            await asyncio.sleep(0.25)
        assert posted is not None and posted[0] == new_queue, posted

        # once it has succeeded, the search is not repeated at start; an operator runs it
        system.appservice.stop()
        third_channel = (await _desk_rooms(system, third))[2]
        assert third_channel is not None
        await _delete(system, token, third_channel)
        await system.start_appservice()
        await _until_logged(system, MEND_SKIPPED, 1)
        assert _logged(system, REPLACED_ONE) == 1
        assert (await _desk_rooms(system, third))[2] == third_channel
        ran = messenger_cli("retention", "run", MEND_CHANNELS, "--data-dir",
                            str(system.data_dir), "--json")  # fmt: skip
        outcome = json.loads(ran.stdout)
        assert outcome["error"] is None and outcome["result"]["replaced"] == 1, outcome
        assert outcome["result"]["kept_with_tickets"] == 0, outcome
        new_third = (await _desk_rooms(system, third))[2]
        assert new_third is not None and new_third != third_channel
        members = await _memberships(system, token, new_third)
        assert members.get(third) == "invite", members

        # a replacement that finds the row changed meanwhile (say, the coverage ended) gives
        # its new room up: the patient's invite taken back, the bot gone from it
        async with HomeserverClient(system.hs_url, system.settings.secrets.as_token,
                                    cfg.appservice.id) as hs:  # fmt: skip
            ctx = JobContext(system.db, hs, lambda: admin_token(system), system.settings)
            stale = desk_store.ChannelRow(third, third_channel, None, None, None, False)
            with caplog.at_level(logging.WARNING, logger="messenger.desk.channel_mend"):
                assert await ChannelMend(ctx).replace(stale) == 0
        given_up = [r.args[1] for r in caplog.records if "given up" in r.getMessage()]
        assert len(given_up) == 1 and isinstance(given_up[0], str)
        assert (await _desk_rooms(system, third))[2] == new_third  # the row as it was
        url = f"{system.hs_url}/_synapse/admin/v1/rooms/{quote(given_up[0])}/messages"
        status, answer = await json_request("GET", url + "?dir=f&limit=100", token)
        assert status == 200, answer
        last = {e["state_key"]: e["content"]["membership"] for e in answer["chunk"]
                if e["type"] == "m.room.member"}  # fmt: skip
        assert last.get(third) == "leave" and last.get(desk_bot) == "leave", last

        # many channels (the whole room list of the desk bot): a gone channel that has a ticket
        # is kept; one the homeserver cannot tell about makes the run fail (repeated at start)
        await _delete(system, token, other_channel)
        monkeypatch.setattr(desk_rooms, "FEW_ROOMS", 0)
        async with HomeserverClient(system.hs_url, system.settings.secrets.as_token,
                                    cfg.appservice.id) as hs:  # fmt: skip

            async def refused() -> str:
                return "not-an-admin-token"

            blind = JobContext(system.db, hs, refused, system.settings)
            with pytest.raises(ChannelsNotMended, match="'undecided': 1"):
                await ChannelMend(blind).run()
            ctx = JobContext(system.db, hs, lambda: admin_token(system), system.settings)
            result = (await ChannelMend(ctx).run()).as_json()
        assert result == {"checked": 3, "replaced": 0, "kept_with_tickets": 1, "failed": 0,
                          "undecided": 0}  # fmt: skip
        assert (await _desk_rooms(system, other))[2] == other_channel

        # a process's admin token logged out by an operator is renewed at the next check
        async with HomeserverClient(system.hs_url, system.settings.secrets.as_token,
                                    cfg.appservice.id) as hs:  # fmt: skip
            tokens = AdminToken(system.settings, hs, check_s=0)
            first = await tokens()
            await hs.logout(first)
            renewed = await tokens()
            assert renewed != first
            assert str((await hs.whoami(renewed))["user_id"]).startswith("@messenger-admin:")
    finally:
        await system.stop()
