"""Provisioning patients from the insurer's records: the admin API and CSV import, idempotent on
the KVNR, with clear errors that change nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from messenger.db.stores import accounts as accounts_store
from tests.accounts.people import admin_api, new_kvnr
from tests.system import System, messenger_cli


async def _count(system: System) -> int:
    async with system.db.reading() as conn:
        return len(await accounts_store.list_accounts(conn))


async def test_post_accounts_is_idempotent_on_the_kvnr_and_refuses_bad_input(
    system: System, e2e_user: Any
) -> None:
    kvnr = new_kvnr()
    body = {"kvnr": kvnr, "display_name": "Paula Provision", "email": "paula@example.de"}
    before = await _count(system)
    refused = [
        (await admin_api(system, "POST", "/accounts", body, token=None), 401, "Bearer"),
        (await admin_api(system, "POST", "/accounts", body, token="falsch"), 403, "wrong"),
        (await admin_api(system, "POST", "/accounts", raw="{kaputt"), 400, "must be JSON"),
        (await admin_api(system, "POST", "/accounts", ["x"]), 400, "JSON object"),
        (await admin_api(system, "POST", "/accounts", {"display_name": "X"}), 400, "kvnr: required"),
        (await admin_api(system, "POST", "/accounts", {**body, "kvnr": "K123456789"}), 400,
         "kvnr: the check digit"),
        (await admin_api(system, "POST", "/accounts", {**body, "email": "keine-mail"}), 400,
         "email: 'keine-mail' is not an e-mail address"),
        (await admin_api(system, "POST", "/accounts", {**body, "geburtstag": "1.1."}), 400,
         "geburtstag: unknown field"),
        (await admin_api(system, "POST", "/accounts", {**body, "display_name": 7}), 400,
         "display_name: must be a string"),
        (await admin_api(system, "POST", "/accounts", {**body, "role": "practice"}), 400,
         "role: only patient"),
    ]  # fmt: skip
    for (status, answer), expected_status, words in refused:
        assert status == expected_status and words in answer["error"], (status, answer)
    assert await _count(system) == before  # nothing was created by any of them

    status, first = await admin_api(system, "POST", "/accounts", body)
    assert status == 201 and first["created"] is True and first["password"]
    assert first["service_room_id"] and first["insurer_room_id"]
    status, again = await admin_api(system, "POST", "/accounts", body)
    assert status == 200 and again["created"] is False and again["user_id"] == first["user_id"]
    assert again["password"] is None  # the password is shown once, at creation
    renamed = {**body, "display_name": "Paula Neuname", "email": "paula.neu@example.de"}
    status, updated = await admin_api(system, "POST", "/accounts", renamed)
    assert status == 200 and updated["user_id"] == first["user_id"]
    assert await _count(system) == before + 1
    status, shown = await admin_api(system, "GET", f"/accounts/{kvnr}")
    assert status == 200 and shown["display_name"] == "Paula Neuname"
    assert shown["email"] == "paula.neu@example.de" and shown["ended_at"] is None
    patient = await e2e_user({"user_id": first["user_id"], "password": first["password"]})
    status, profile = await patient.api(
        "GET", f"/_matrix/client/v3/profile/{first['user_id']}/displayname"
    )
    assert status == 200 and profile["displayname"] == "Paula Neuname"  # Synapse follows
    status, _ = await admin_api(system, "GET", "/accounts/@gibtsnicht:localhost")
    assert status == 404

    # the CLI is the same provisioning: the KVNR's account again, not a second one
    result = messenger_cli("accounts", "add", "--data-dir", str(system.data_dir), "--role",
                           "patient", "--display-name", "Paula Neuname", "--kvnr", kvnr,
                           "--json")  # fmt: skip
    assert json.loads(result.stdout)["user_id"] == first["user_id"]
    assert json.loads(result.stdout)["created"] is False


async def test_csv_import_reports_each_row_and_can_be_repeated(
    system: System, tmp_path: Path
) -> None:
    known = new_kvnr()
    system.add_account("patient", "Schon Da", "--kvnr", known)
    first, second = new_kvnr(), new_kvnr()
    csv_file = tmp_path / "versicherte.csv"
    csv_file.write_text(
        "\ufeffkvnr;display_name;email\n"
        f"{first};Anna Import;anna@example.de\n"
        f"{second};Bert Import;\n"
        f"{known};Schon Da;\n"
        "K000000000;Falsche Nummer;\n"
        f"{new_kvnr()};;\n"
        f"{new_kvnr()};Carla Import;kaputt\n",
        encoding="utf-8",
    )
    before = await _count(system)
    args = ("accounts", "import", str(csv_file), "--data-dir", str(system.data_dir), "--json")
    report = json.loads(messenger_cli(*args).stdout)
    assert (report["created"], report["existing"], report["rejected"]) == (2, 1, 3)
    rejected = {row["line"]: row["reason"] for row in report["rows"] if row["result"] == "rejected"}
    assert "check digit" in rejected[5] and "display_name" in rejected[6]
    assert "email" in rejected[7]
    assert await _count(system) == before + 2
    again = json.loads(messenger_cli(*args).stdout)
    assert (again["created"], again["existing"], again["rejected"]) == (0, 3, 3)
    assert await _count(system) == before + 2

    bad_header = tmp_path / "falsch.csv"
    bad_header.write_text("nummer,name\nK1,Y\n")
    result = messenger_cli("accounts", "import", str(bad_header), "--data-dir",
                           str(system.data_dir), check=False)  # fmt: skip
    assert result.returncode == 2 and "header must name kvnr, display_name" in result.stderr
