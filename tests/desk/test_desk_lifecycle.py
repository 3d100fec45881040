"""The insurer channel over time: the 5-year purge (the clock moved with the job's `as_of`)
with a legal hold, and a desk restart that loses nothing."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from messenger.bridge.homeserver_client import HomeserverClient
from messenger.db.database import now_ms
from messenger.db.stores import desk as store
from messenger.db.stores import jobs as jobs_store
from messenger.retention.context import JobContext
from messenger.retention.runner import JobRunner
from tests.desk.desk_people import concern, patient, staff, ticket_room_of
from tests.media import upload_encrypted
from tests.system import System, admin_token, json_request, messenger_cli

FIVE_YEARS_MS = 5 * 365 * 86_400_000


async def _stored(system: System, event_id: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        async with system.db.reading() as conn:
            if await store.message_known(conn, event_id):
                return
        assert time.monotonic() < deadline, f"{event_id} not taken by the desk"
        await asyncio.sleep(0.3)


async def _event_status(user: Any, room: str, event_id: str) -> int:
    status, _ = await user.api("GET", f"/_matrix/client/v3/rooms/{room}/event/{event_id}")
    return int(status)


async def test_the_purge_deletes_exactly_what_is_older_and_respects_a_legal_hold(
    system: System, e2e_user: Any
) -> None:
    agent = await staff(system, e2e_user, "Paula Purge")
    olga = await patient(system, e2e_user, "Olga Alt")  # a closed ticket: all of it goes
    karl = await patient(system, e2e_user, "Karl Kurz")  # messages on both sides of the cutoff
    hilde = await patient(system, e2e_user, "Hilde Halt")  # on legal hold: nothing goes

    first = await concern(olga, "1", "Alte Frage mit Anhang")
    file = await upload_encrypted(system, olga, b"%PDF alter Bescheid", "alt.pdf")
    olga_file = await olga.send_event(olga.channel, "m.room.message",  # type: ignore[attr-defined]
                                      {"msgtype": "m.file", "body": "alt.pdf", "file": file})  # fmt: skip
    await agent.send_text(agent.queue, f"nehmen {first}")  # type: ignore[attr-defined]
    olga_room = await ticket_room_of(agent, first)
    await agent.wait_for_message(olga_room, "Olga Alt: Alte Frage mit Anhang")
    await agent.send_text(olga_room, "Erledigt.")
    await agent.send_text(olga_room, "!schliessen")
    await olga.wait_for_message(olga.channel, f"Ihr Anliegen #{first} ist abgeschlossen")  # type: ignore[attr-defined]

    await concern(karl, "2", "Nachricht vor der Frist")
    karl_old = next(m.event_id for m in karl.messages if "vor der Frist" in m.body)
    await concern(hilde, "3", "Gehaltene Nachricht")
    hilde_old = next(m.event_id for m in hilde.messages if "Gehaltene" in m.body)
    await _stored(system, olga_file)
    await asyncio.sleep(1.5)
    cutoff = now_ms()
    await asyncio.sleep(1.5)
    karl_new = await karl.send_text(karl.channel, "Nachricht nach der Frist")  # type: ignore[attr-defined]
    await _stored(system, karl_new)

    held = messenger_cli("desk", "hold", "--patient", hilde.user_id, "--json",
                         "--data-dir", str(system.data_dir))  # fmt: skip
    assert json.loads(held.stdout)["channel_on_hold"] is True
    status, policy = await hilde.api(
        "GET",
        f"/_matrix/client/v3/rooms/{hilde.channel}/state/m.room.retention/",  # type: ignore[attr-defined]
    )
    assert status == 200 and "max_lifetime" not in policy  # clients hide nothing on hold
    status, policy = await karl.api(
        "GET",
        f"/_matrix/client/v3/rooms/{karl.channel}/state/m.room.retention/",  # type: ignore[attr-defined]
    )
    assert policy == {"max_lifetime": FIVE_YEARS_MS}

    token = await admin_token(system)
    cfg = system.settings.config
    async with HomeserverClient(system.hs_url, system.settings.secrets.as_token,
                                cfg.appservice.id) as hs:  # fmt: skip

        async def admin() -> str:
            return token

        runner = JobRunner(JobContext(system.db, hs, admin, system.settings))
        outcome = await runner.run("insurer_purge", as_of=cutoff + FIVE_YEARS_MS)
    assert outcome.ran and outcome.error is None, outcome
    assert outcome.result is not None and outcome.result["tickets"] >= 1
    assert outcome.result["media"] >= 1 and outcome.result["events"] >= 3

    assert await _event_status(olga, olga.channel, olga_file) == 404  # type: ignore[attr-defined]
    assert await _event_status(karl, karl.channel, karl_old) == 404  # type: ignore[attr-defined]
    assert await _event_status(karl, karl.channel, karl_new) == 200  # type: ignore[attr-defined]
    assert await _event_status(hilde, hilde.channel, hilde_old) == 200  # type: ignore[attr-defined]
    server, media_id = file["url"].removeprefix("mxc://").split("/")
    media = f"{system.hs_url}/_synapse/admin/v1/media/{server}/{media_id}"
    assert (await json_request("GET", media, token))[0] == 404
    async with system.db.reading() as conn:
        assert await store.ticket(conn, first) is None  # closed before the cutoff: gone
        karl_ticket = await store.latest_ticket(conn, karl.user_id)
        hilde_ticket = await store.latest_ticket(conn, hilde.user_id)
        assert karl_ticket is not None and hilde_ticket is not None
        assert [m.event_id for m in await store.messages(conn, karl_ticket.id)] == [karl_new]
        assert len(await store.messages(conn, hilde_ticket.id)) == 1
        audit = [a for a in await jobs_store.audit_log(conn) if a.job == "insurer_purge"]
    actions = {a.action for a in audit}
    assert {"history_purged", "media_deleted", "ticket_messages_deleted", "tickets_deleted"
            } <= actions  # fmt: skip
    async with system.db.reading() as conn:
        deleted_rooms = {(a.room_id, a.action) for a in await jobs_store.audit_log(conn)}
    assert (olga_room, "room_deleted_insurer_purge") in deleted_rooms
    assert all(a.room_id != hilde.channel for a in audit)  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while (await json_request("GET", f"{system.hs_url}/_synapse/admin/v1/rooms/{olga_room}",
                              token))[0] != 404:  # fmt: skip
        assert time.monotonic() < deadline, "the closed ticket's room is still there"
        await asyncio.sleep(0.5)

    released = messenger_cli("desk", "hold", "--patient", hilde.user_id, "--release",
                             "--data-dir", str(system.data_dir))  # fmt: skip
    assert "released" in released.stdout
    bad = messenger_cli("desk", "hold", "--ticket", "999999", "--data-dir",
                        str(system.data_dir), check=False)  # fmt: skip
    assert bad.returncode == 2 and "no ticket #999999" in bad.stderr


async def test_a_desk_restart_loses_no_ticket_and_no_message(system: System, e2e_user: Any) -> None:
    rita = await patient(system, e2e_user, "Rita Ruhig")
    agent = await staff(system, e2e_user, "Udo Unterwegs")
    number = await concern(rita, "4", "Vor dem Neustart")
    await agent.send_text(agent.queue, f"nehmen {number}")  # type: ignore[attr-defined]
    room = await ticket_room_of(agent, number)
    await agent.wait_for_message(room, "Rita Ruhig: Vor dem Neustart")

    system.appservice.kill()  # the desk bot is gone while the patient writes
    await rita.send_text(rita.channel, "Während der Pause geschrieben")  # type: ignore[attr-defined]
    await rita.send_text(rita.channel, "Und noch eine Zeile")  # type: ignore[attr-defined]
    await system.start_appservice()

    await agent.wait_for_message(room, "Rita Ruhig: Und noch eine Zeile", timeout=90)
    await asyncio.sleep(3)
    mirrored = [m.body for m in agent.messages if m.room_id == room and "Rita Ruhig:" in m.body]
    assert mirrored == ["Rita Ruhig: Vor dem Neustart", "Rita Ruhig: Während der Pause geschrieben",
                        "Rita Ruhig: Und noch eine Zeile"]  # fmt: skip
    greetings = [m for m in rita.messages if "Willkommen beim Kundenservice" in m.body]
    assert len(greetings) == 1
    async with system.db.reading() as conn:
        rows = await store.messages(conn, number)
    assert [r.kind for r in rows] == ["patient", "patient", "patient"]
