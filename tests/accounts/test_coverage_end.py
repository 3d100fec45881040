"""Coverage end against the real Synapse: warnings in the service room at the configured days,
cancel, and on the date the end itself — resumed to completion after a crash halfway."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from messenger.bridge.errors import UserInUse
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.db.stores import coverage as coverage_store
from messenger.db.stores import jobs as jobs_store
from tests.accounts.people import admin_api, new_kvnr
from tests.requests.test_lifecycle import membership, person, request_state
from tests.system import System, admin_token, json_request, messenger_cli

BERLIN = ZoneInfo("Europe/Berlin")


def _today() -> date:
    return datetime.now(BERLIN).date()


def run_job(system: System, day: date, **env: str) -> Any:
    """`retention run coverage_end` as of noon on that day."""
    return messenger_cli("retention", "run", "coverage_end", "--data-dir", str(system.data_dir),
                         "--as-of", f"{day.isoformat()}T11:00", "--json", check=False,
                         env=env)  # fmt: skip


def end_coverage(system: System, *args: str) -> Any:
    return messenger_cli("accounts", "end-coverage", *args, "--data-dir", str(system.data_dir),
                         "--json", check=False)  # fmt: skip


async def _row(system: System, user: str) -> coverage_store.CoverageEndRow:
    async with system.db.reading() as conn:
        row = await coverage_store.get(conn, user)
    assert row is not None
    return row


async def _login(system: System, user: str, password: str) -> int:
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
            "password": password}  # fmt: skip
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{system.hs_url}/_matrix/client/v3/login", json=body) as response,
    ):
        return response.status


async def test_warned_then_ended_on_the_date_and_resumed_after_a_crash(
    system: System, e2e_user: Any
) -> None:
    kvnr = new_kvnr()
    account = system.add_account("patient", "Willi Wechsel", "--kvnr", kvnr)
    patient = await person(system, e2e_user, account)
    practice = await person(system, e2e_user, system.add_listed_practice("Praxis Wechsel"))
    asked = await person(system, e2e_user, system.add_listed_practice("Praxis Anfrage"))
    care = await patient.open_chat_with(practice)
    await patient.send_text(care, "Bitte senden Sie mir den Befund.")
    await practice.wait_for_message(care, "Befund")
    pending = await patient.create_encrypted_room(invite=[asked.user_id])
    await request_state(system, pending, "pending")

    today = _today()
    end = today + timedelta(days=10)
    for bad, words in (
        (("--on", "2020-01-01"), "in the past"),
        (("--on", "31.1."), "not a date"),
        (("--reason", "umzug", "--on", end.isoformat()), "umzug"),
        ((), "--on"),
    ):
        refused = end_coverage(system, kvnr, *bad)
        assert refused.returncode == 2 and words in refused.stderr, (bad, refused.stderr)
    scheduled = json.loads(end_coverage(system, kvnr, "--on", end.isoformat()).stdout)
    assert scheduled["step"] == "scheduled" and scheduled["user_id"] == patient.user_id
    repeated = json.loads(end_coverage(system, patient.user_id, "--on", end.isoformat()).stdout)
    assert repeated == scheduled  # idempotent

    assert json.loads(run_job(system, today).stdout)["result"]["warned"] == 1
    warning = await patient.wait_for_message(patient.service_room, "endet am")  # type: ignore[attr-defined]
    assert end.strftime("%d.%m.%Y") in warning.body and "in 10 Tag(en)" in warning.body
    assert "Praxen behalten ihre Kopie" in warning.body and "messenger export" in warning.body
    assert "„export“" in warning.body  # the insurer channel's way
    assert json.loads(run_job(system, today).stdout)["result"]["warned"] == 0  # once per point
    assert json.loads(run_job(system, end - timedelta(days=7)).stdout)["result"]["warned"] == 1
    await patient.wait_for_message(patient.service_room, "in 7 Tag(en)")  # type: ignore[attr-defined]
    assert (await _row(system, patient.user_id)).warned == "30,7"

    await patient.close()  # its device is about to go
    # on the date: the process dies right after the patient left the rooms …
    crashed = run_job(system, end, MESSENGER_FAILPOINT="coverage_end:rooms")
    assert crashed.returncode == 75, crashed.stdout + crashed.stderr
    assert (await _row(system, patient.user_id)).step == "rooms"
    await membership(system, care, patient.user_id, "leave")
    # … and the next run finishes the end
    finished = json.loads(run_job(system, end).stdout)
    assert finished["result"] == {"warned": 0, "ended": 1, "failed": 0}, finished
    row = await _row(system, patient.user_id)
    assert row.step == "done" and row.finished_at is not None

    assert await _login(system, patient.user_id, account["password"]) == 403  # deactivated
    status, member = await practice.api(
        "GET", f"/_matrix/client/v3/rooms/{care}/state/m.room.member/{patient.user_id}"
    )
    assert status == 200 and member["membership"] == "leave"
    assert member["reason"] == "Zugang beendet — Kassenwechsel"
    status, history = await practice.api(
        "GET", f"/_matrix/client/v3/rooms/{care}/messages?dir=b&limit=50"
    )
    assert status == 200 and any(e["sender"] == patient.user_id and e["type"] == "m.room.encrypted"
                                 for e in history["chunk"])  # fmt: skip
    admin = await admin_token(system)
    # (the request room has no local member left: Synapse keeps no current state for it)
    for room in (patient.service_room, account["insurer_room_id"]):  # type: ignore[attr-defined]
        status, state = await json_request(
            "GET", f"{system.hs_url}/_synapse/admin/v1/rooms/{room}/state", admin
        )
        assert status == 200, (room, state)
        mine = next((e for e in state["state"]
                     if e["type"] == "m.room.member" and e["state_key"] == patient.user_id), None)  # fmt: skip
        assert mine is not None, (room, [(e["type"], e.get("state_key")) for e in state["state"]])
        assert mine["content"]["membership"] == "leave", room
        assert mine["content"].get("reason") == "Zugang beendet — Kassenwechsel", room
    status, devices = await json_request(
        "GET", f"{system.hs_url}/_synapse/admin/v2/users/{patient.user_id}/devices", admin
    )
    assert status == 200 and devices["devices"] == []  # erased with the account
    await request_state(system, pending, "withdrawn")
    await membership(system, pending, patient.user_id, "leave")
    await membership(system, pending, asked.user_id, "leave")  # the invite was rescinded

    shown = messenger_cli("accounts", "show", patient.user_id, "--data-dir", str(system.data_dir),
                          "--json")  # fmt: skip
    ended = json.loads(shown.stdout)
    assert ended["display_name"] == "" and ended["has_kvnr"] is False
    by_kvnr = messenger_cli("accounts", "show", kvnr, "--data-dir", str(system.data_dir),
                            check=False)  # fmt: skip
    assert by_kvnr.returncode == 1 and "no such account" in by_kvnr.stderr
    async with system.db.reading() as conn:
        audit = await jobs_store.audit_log(conn)
    assert any(a.job == "coverage_end" and a.action == "account_ended" for a in audit)
    too_late = end_coverage(system, patient.user_id, "--cancel")
    assert too_late.returncode == 2 and "too late" in too_late.stderr

    # a new registration at this insurer gets a new Matrix ID; the old one is never given again
    again = system.add_account("patient", "Willi Wechsel", "--kvnr", kvnr)
    assert again["user_id"] != patient.user_id and again["created"] is True
    localpart = patient.user_id[1:].split(":")[0]
    secrets, cfg = system.settings.secrets, system.settings.config
    async with HomeserverClient(system.hs_url, secrets.as_token, cfg.appservice.id) as hs:
        with pytest.raises(UserInUse):  # not even the shared-secret registration gets it
            await hs.register_with_shared_secret(
                secrets.registration_shared_secret,
                localpart,
                "ein-neues-Passwort",
                "X",
                admin=False,
            )


async def test_a_cancelled_end_changes_nothing_and_the_api_checks_its_input(
    system: System, e2e_user: Any
) -> None:
    kvnr = new_kvnr()
    account = system.add_account("patient", "Rita Bleibt", "--kvnr", kvnr)
    practice = system.add_listed_practice("Praxis Bleibt")
    end = _today() + timedelta(days=3)
    path = f"/accounts/{kvnr}/coverage-end"
    for body, words in (
        ({}, "on: required"),
        ({"on": "morgen"}, "on: 'morgen' is not a date"),
        ({"on": end.isoformat(), "reason": 5}, "reason: must be a string"),
    ):
        status, answer = await admin_api(system, "POST", path, body)
        assert status == 400 and words in answer["error"], answer
    assert (await admin_api(system, "POST", path, {"on": "x"}, token=None))[0] == 401
    status, answer = await admin_api(system, "POST", f"/accounts/{practice['user_id']}/coverage-end",
                                     {"on": end.isoformat()})  # fmt: skip
    assert status == 400 and "is a practice, not a patient" in answer["error"]
    status, set_ = await admin_api(system, "POST", path, {"on": end.isoformat()})
    assert status == 200 and set_["end_on"] == end.isoformat()
    status, cancelled = await admin_api(system, "DELETE", path)
    assert status == 200 and cancelled["cancelled_at"] is not None
    status, twice = await admin_api(system, "DELETE", path)
    assert status == 200 and twice == cancelled  # idempotent

    outcome = json.loads(run_job(system, end).stdout)
    assert outcome["result"]["ended"] == 0
    assert await _login(system, account["user_id"], account["password"]) == 200
    assert (await _row(system, account["user_id"])).step == "scheduled"
