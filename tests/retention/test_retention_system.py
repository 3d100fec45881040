"""Deletion, leave prompts and room cleanup end to end: real Synapse, real E2E clients, the
jobs run through `messenger retention run` (old messages are back-dated with timestamp
massaging; later days with --as-of). The first test's redacted event is checked last: Synapse
prunes redacted originals at its next 5-minute check."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import time
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from nio import RedactedEvent, RoomMessagesResponse, RoomRedactResponse, RoomSendResponse

from messenger.db.database import now_ms
from messenger.db.schema import known_media
from messenger.db.stores import desk as desk_store
from messenger.db.stores import jobs as jobs_store
from messenger.db.stores import leave_prompts as prompts_store
from messenger.db.stores import registry
from messenger.namespace import LEAVE_PROMPT_TYPE
from tests.e2e_client import E2EUser
from tests.media import upload_encrypted
from tests.requests.test_lifecycle import membership, person
from tests.system import System, TimestampService, admin_token, json_request, messenger_cli

DAY_MS = 86_400_000
REDACTED: dict[str, str] = {}  # event id -> ciphertext, from the first test for the last


async def registry_saw(system: System, room: str, at: int) -> None:
    """Until the room registry has a message of `room` at `at` or later (no fixed wait)."""
    deadline = time.monotonic() + 30
    while True:
        async with system.db.reading() as conn:
            row = await registry.get_room(conn, room)
        if row is not None and (row.last_event_at or 0) >= at:
            return
        assert time.monotonic() < deadline, f"the registry never saw {room} at {at}"
        await asyncio.sleep(0.2)


async def care_chat(
    system: System, e2e_user: Any, practice_name: str
) -> tuple[E2EUser, E2EUser, str]:
    practice = await person(system, e2e_user, system.add_listed_practice(practice_name))
    patient = await person(system, e2e_user, system.add_account("patient", "Erika Alt"))
    room = await patient.create_encrypted_room(invite=[practice.user_id])
    await practice.wait_for(lambda: room in practice.invites)
    await practice.join(room)
    await membership(system, room, practice.user_id, "join")
    return patient, practice, room


def run_job(system: System, job: str, *extra: str) -> dict[str, Any]:
    result = messenger_cli(
        "retention", "run", job, "--data-dir", str(system.data_dir), "--json", *extra
    )
    outcome: dict[str, Any] = json.loads(result.stdout)
    assert outcome["ran"] and outcome["error"] is None, outcome
    return outcome


def as_of(days_ahead: int) -> str:
    return (dt.datetime.now() + dt.timedelta(days=days_ahead)).strftime("%Y-%m-%dT%H:%M")


async def test_own_messages_deleted_for_everyone_others_never(
    system: System, e2e_user: Any
) -> None:
    patient, practice, room = await care_chat(system, e2e_user, "Praxis Dr. Löscher")
    await patient.wait_for(lambda: practice.user_id in patient.client.rooms[room].users)
    mine = await patient.send_text(room, f"meine Nachricht {uuid.uuid4().hex}")
    theirs = await practice.send_text(room, "Antwort der Praxis")
    await patient.wait_for_message(room, "Antwort der Praxis")
    await practice.wait_for_message(room, "meine Nachricht")

    refused = await patient.client.room_redact(room, theirs)
    assert not isinstance(refused, RoomRedactResponse)
    assert getattr(refused, "status_code", None) == "M_FORBIDDEN"
    done = await patient.client.room_redact(room, mine, reason="vertippt")
    assert isinstance(done, RoomRedactResponse)

    async def practice_sees_it_deleted() -> bool:
        answer = await practice.client.room_messages(room, start="", limit=20)
        assert isinstance(answer, RoomMessagesResponse)
        return any(isinstance(e, RedactedEvent) and e.event_id == mine for e in answer.chunk)

    deadline = time.monotonic() + 30
    while not await practice_sees_it_deleted():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.5)
    REDACTED[mine] = "ciphertext"


async def test_room_versions_with_unlimited_creators_are_refused(
    system: System, e2e_user: Any
) -> None:
    """From room version 12 on, a creator's power is unlimited and would bypass the care chat's
    redaction level; such rooms cannot be created."""
    patient = await person(system, e2e_user, system.add_account("patient", "Vera Version"))
    status, body = await patient.api(
        "POST", "/_matrix/client/v3/createRoom", {"room_version": "12", "preset": "private_chat"}
    )
    assert status == 400
    assert body["de.gesundheitsmessenger.rule"] == "room-versions-without-privileged-creators"
    assert "Raumversion 12" in body["error"] and "10, 11" in body["error"]


async def test_a_job_running_in_another_process_is_not_started_again(system: System) -> None:
    """The job lock lives in the shared database: while another process holds it (a live
    lease), `retention run` refuses; once it is free, it runs."""
    async with system.db.transaction() as conn:
        assert await jobs_store.claim(conn, "abandoned_rooms", "other-host:4711", now_ms(), 60_000)
    try:
        busy = messenger_cli("retention", "run", "abandoned_rooms", "--data-dir",
                             str(system.data_dir), "--json", check=False)  # fmt: skip
        assert busy.returncode == 3 and json.loads(busy.stdout)["ran"] is False
    finally:
        async with system.db.transaction() as conn:
            await jobs_store.release(conn, "abandoned_rooms", "other-host:4711")
    assert run_job(system, "abandoned_rooms")["ran"]


async def test_threshold_through_the_bot_and_through_account_data(
    system: System, e2e_user: Any
) -> None:
    patient = await person(system, e2e_user, system.add_account("patient", "Frieda Frist"))
    room = patient.service_room  # type: ignore[attr-defined]
    await patient.send_text(room, "frist")
    assert "6 Monate" in (await patient.wait_for_message(room, "Ihre Frist:")).body
    await patient.send_text(room, "frist 0 monate")
    assert "1 bis 60" in (await patient.wait_for_message(room, "keine gültige Frist")).body
    await patient.send_text(room, "frist 3 monate")
    await patient.wait_for_message(room, "Ihre Frist ist jetzt 3 Monate")
    path = f"/_matrix/client/v3/user/{patient.user_id}/account_data/{LEAVE_PROMPT_TYPE}"
    assert await patient.api("GET", path) == (200, {"months": 3})

    async def mirrored(wanted: tuple[bool, int | None]) -> None:
        deadline = time.monotonic() + 20
        while True:
            async with system.db.reading() as conn:
                if await prompts_store.threshold(conn, patient.user_id) == wanted:
                    return
            assert time.monotonic() < deadline, wanted
            await asyncio.sleep(0.2)

    await mirrored((True, 3))
    assert (await patient.api("PUT", path, {"months": 12}))[0] == 200  # any client
    await mirrored((True, 12))
    assert (await patient.api("PUT", path, {"months": 99}))[0] == 200
    await patient.wait_for_message(room, "ungültige Frist gespeichert (99)")
    await mirrored((True, 12))  # the invalid value changed nothing
    await patient.send_text(room, "frist aus")
    await patient.wait_for_message(room, "keine alten Chats mehr")
    await mirrored((True, None))


async def test_prompt_names_exactly_the_stale_chats_and_leaving_keeps_the_practice_copy(
    system: System, e2e_user: Any
) -> None:
    patient, old_practice, old_room = await care_chat(system, e2e_user, "Praxis Dr. Vorjahr")
    await patient.send_text(patient.service_room, "frist 6 monate")  # type: ignore[attr-defined]
    practice2 = await person(system, e2e_user, system.add_listed_practice("Praxis Dr. Aktuell"))
    new_room = await patient.create_encrypted_room(invite=[practice2.user_id])
    await practice2.wait_for(lambda: new_room in practice2.invites)
    await practice2.join(new_room)
    await membership(system, new_room, practice2.user_id, "join")
    await patient.send_text(new_room, "frisch")
    eight_months_ago = int(time.time() * 1000) - 240 * DAY_MS
    fake = {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgA", "sender_key": "k",
            "session_id": "s", "device_id": "D"}  # fmt: skip
    await TimestampService.send(system.hs_url, old_room, old_practice.user_id,
                                "m.room.encrypted", fake, eight_months_ago)  # fmt: skip
    await practice2.wait_for_message(new_room, "frisch")
    await registry_saw(system, old_room, eight_months_ago)
    await registry_saw(system, new_room, eight_months_ago + 1)

    outcome = run_job(system, "leave_prompts")
    assert outcome["result"]["chats"] >= 1
    prompt = await patient.wait_for_message(patient.service_room, "seit mehr als 6 Monaten")  # type: ignore[attr-defined]
    assert "Praxis Dr. Vorjahr" in prompt.body and "Praxis Dr. Aktuell" not in prompt.body
    assert "für die Praxis bleibt der Chat erhalten" in prompt.body and "Export" in prompt.body
    assert prompt.body.count("\n1. ") == 1
    run_job(system, "leave_prompts")  # again the same day: no second notice
    await asyncio.sleep(3)
    assert sum("seit mehr als 6 Monaten" in m.body for m in patient.messages) == 1

    await patient.send_text(patient.service_room, "verlassen 1")  # type: ignore[attr-defined]
    done = await patient.wait_for_message(patient.service_room, "Sie haben diese Chats verlassen")  # type: ignore[attr-defined]
    assert "Praxis Dr. Vorjahr" in done.body
    status, joined = await patient.api("GET", "/_matrix/client/v3/joined_rooms")
    assert old_room not in joined["joined_rooms"] and new_room in joined["joined_rooms"]
    status, _ = await patient.api("GET", f"/_matrix/client/v3/rooms/{old_room}/state")
    assert status == 403  # left and forgotten
    status, history = await old_practice.api(
        "GET", f"/_matrix/client/v3/rooms/{old_room}/messages?dir=b&limit=50"
    )
    assert status == 200 and any(e["type"] == "m.room.encrypted" for e in history["chunk"])
    async with system.db.reading() as conn:
        audit = await jobs_store.audit_log(conn)
    assert any(a.room_id == old_room and a.action == "patient_left" for a in audit)


async def test_kept_chat_is_offered_again_only_after_another_period(
    system: System, e2e_user: Any
) -> None:
    patient, practice, room = await care_chat(system, e2e_user, "Praxis Dr. Bleibt")
    old = int(time.time() * 1000) - 200 * DAY_MS
    fake = {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgA", "sender_key": "k",
            "session_id": "s", "device_id": "D"}  # fmt: skip
    await TimestampService.send(
        system.hs_url, room, practice.user_id, "m.room.encrypted", fake, old
    )
    await registry_saw(system, room, old)
    run_job(system, "leave_prompts")
    service = patient.service_room  # type: ignore[attr-defined]
    await patient.wait_for_message(service, "Praxis Dr. Bleibt")
    await patient.send_text(service, "behalten 1")
    await patient.wait_for_message(service, "diese Chats bleiben")
    run_job(system, "leave_prompts", "--as-of", as_of(30))
    await asyncio.sleep(3)
    assert sum("Praxis Dr. Bleibt" in m.body and "Monaten" in m.body for m in patient.messages) == 1
    run_job(system, "leave_prompts", "--as-of", as_of(200))
    await patient.wait_for(
        lambda: (
            sum("Praxis Dr. Bleibt" in m.body and "Monaten" in m.body for m in patient.messages)
            == 2
        )
    )
    await patient.send_text(service, "verlassen 9")
    await patient.wait_for_message(service, "kein offenes Angebot: 9")


async def test_abandoned_and_never_used_rooms_are_deleted(system: System, e2e_user: Any) -> None:
    patient, practice, room = await care_chat(system, e2e_user, "Praxis Dr. Ende")
    for user in (patient, practice):
        assert (await user.api("POST", f"/_matrix/client/v3/rooms/{room}/leave", {}))[0] == 200
        assert (await user.api("POST", f"/_matrix/client/v3/rooms/{room}/forget", {}))[0] == 200
    await membership(system, room, practice.user_id, "leave")
    await membership(system, room, patient.user_id, "leave")

    lonely = await person(system, e2e_user, system.add_account("patient", "Otto Offen"))
    silent = system.add_listed_practice("Praxis Dr. Still")
    unused = await lonely.create_encrypted_room(invite=[silent["user_id"]])
    await membership(system, unused, silent["user_id"], "invite")

    first = run_job(system, "abandoned_rooms")
    assert first["result"]["deleted"] >= 1
    token = await admin_token(system)
    assert (await json_request("GET", f"{system.hs_url}/_synapse/admin/v1/rooms/{room}", token))[
        0
    ] == 404
    assert (await json_request("GET", f"{system.hs_url}/_synapse/admin/v1/rooms/{unused}", token))[
        0
    ] == 200
    quiet = system.add_account("patient", "Quentin Still")  # never signs in
    run_job(system, "abandoned_rooms", "--as-of", as_of(43))  # after six weeks
    assert (await json_request("GET", f"{system.hs_url}/_synapse/admin/v1/rooms/{unused}", token))[
        0
    ] == 404
    # the rooms our bots keep stay, used or not: the desk's rooms (before any agent joined),
    # an insurer channel and a service room the patient has not opened
    async with system.db.reading() as conn:
        kept = [
            await desk_store.desk_room(conn, "queue"),
            await desk_store.desk_room(conn, "supervisors"),
        ]
    kept += [quiet["insurer_room_id"], quiet["service_room_id"]]
    for bots_room in kept:
        assert bots_room is not None
        url = f"{system.hs_url}/_synapse/admin/v1/rooms/{bots_room}"
        assert (await json_request("GET", url, token))[0] == 200, bots_room
    async with system.db.reading() as conn:
        actions = {(a.room_id, a.action) for a in await jobs_store.audit_log(conn)}
    assert (room, "room_deleted_abandoned") in actions and (
        unused,
        "room_deleted_state_only",
    ) in actions
    status = json.loads(
        messenger_cli("retention", "status", "--data-dir", str(system.data_dir), "--json").stdout
    )
    by_job = {job["job"]: job for job in status}
    assert set(by_job) == {
        "leave_prompts",
        "abandoned_rooms",
        "chat_request_expiry",
        "desk_sla",
        "insurer_purge",
        "coverage_end",
        "homeserver_analyze",
        "mend_insurer_channels",
    }
    assert by_job["abandoned_rooms"]["runs"] >= 2 and by_job["leave_prompts"]["next_run"]
    for _ in range(120):  # run at the appservice's start (not scheduled), once its bots ran
        mend = by_job["mend_insurer_channels"]
        if mend["runs"] >= 1:
            break
        await asyncio.sleep(0.5)
        status = json.loads(messenger_cli(
            "retention", "status", "--data-dir", str(system.data_dir), "--json").stdout)  # fmt: skip
        by_job = {job["job"]: job for job in status}
    assert mend["runs"] >= 1 and mend["last_succeeded"] and not mend["scheduled"], mend
    assert mend["last_error"] is None, mend


async def test_deleted_attachment_in_the_service_room_is_deleted_from_the_media_store(
    system: System, e2e_user: Any
) -> None:
    patient = await person(system, e2e_user, system.add_account("patient", "Bernd Bild"))
    room = patient.service_room  # type: ignore[attr-defined]
    attachment = await upload_encrypted(system, patient, b"\x89PNG Befund", "befund.png")
    mxc = attachment["url"]
    sent = await patient.client.room_send(
        room, "m.room.message", {"msgtype": "m.image", "body": "befund.png", "file": attachment},
        ignore_unverified_devices=True,
    )  # fmt: skip
    assert isinstance(sent, RoomSendResponse)
    token = await admin_token(system)
    server, media_id = mxc.removeprefix("mxc://").split("/")
    media_url = f"{system.hs_url}/_synapse/admin/v1/media/{server}/{media_id}"
    assert (await json_request("GET", media_url, token))[0] == 200
    deadline = time.monotonic() + 30
    while True:  # the bot has seen (and decrypted) the attachment
        async with system.db.reading() as conn:
            seen = (await conn.execute(sa.select(known_media).where(
                known_media.c.event_id == sent.event_id))).first()  # fmt: skip
        if seen is not None:
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.3)
    assert isinstance(await patient.client.room_redact(room, sent.event_id), RoomRedactResponse)
    deadline = time.monotonic() + 30
    while (await json_request("GET", media_url, token))[0] != 404:
        assert time.monotonic() < deadline, "media still there"
        await asyncio.sleep(0.3)


@pytest.mark.timeout(400)  # Synapse's check comes up to 5 minutes after the redaction
async def test_redacted_ciphertext_is_gone_from_synapse_after_the_period(system: System) -> None:
    """Synapse keeps a redacted event's original for `redaction_retention_period` (1 s in the
    tests, 1 h by default) and prunes it at its next check (every 5 minutes)."""
    assert REDACTED, "runs after the redaction test"
    event_id = next(iter(REDACTED))
    database = system.settings.synapse_dir / "homeserver.db"

    def original_kept() -> bool:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
            (stored,) = conn.execute(
                "SELECT json FROM event_json WHERE event_id = ?", (event_id,)
            ).fetchone()
        return "ciphertext" in json.loads(stored).get("content", {})

    deadline = time.monotonic() + 330
    while original_kept():
        if time.monotonic() > deadline:
            pytest.fail("the redacted event's ciphertext is still in Synapse's database")
        await asyncio.sleep(1)
