"""`messenger accounts` as an operator uses it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.system import System, messenger_cli


def _add(data_dir: Path, role: str, name: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """`messenger accounts add` that may fail; the caller checks exit code and message."""
    return messenger_cli(
        "accounts", "add", "--data-dir", str(data_dir), "--role", role,
        "--display-name", name, *extra, check=False,
    )  # fmt: skip


def _count(system: System) -> int:
    out = messenger_cli("accounts", "list", "--data-dir", str(system.data_dir), "--json").stdout
    return len(json.loads(out))


def test_bad_kvnr_is_refused_with_reason_and_creates_nothing(system: System) -> None:
    before = _count(system)
    result = _add(system.data_dir, "patient", "Falsch", "--kvnr", "A123456781")
    assert result.returncode == 2
    assert "--kvnr" in result.stderr and "check digit" in result.stderr
    assert "A123456781" not in result.stderr
    assert _count(system) == before


def test_kvnr_only_for_patients_and_usernames_not_for_patients(system: System) -> None:
    practice = _add(system.data_dir, "practice", "Praxis", "--kvnr", "A123456780")
    assert practice.returncode == 2 and "only patients" in practice.stderr
    patient = _add(system.data_dir, "patient", "Erika", "--username", "erika")
    assert patient.returncode == 2 and "non-speaking" in patient.stderr
    bad_role = _add(system.data_dir, "doctor", "X")
    assert bad_role.returncode == 2 and "patient" in bad_role.stderr
    short_password = _add(system.data_dir, "agent", "Agent", "--password", "kurz")
    assert short_password.returncode == 2 and "--password" in short_password.stderr
    empty_name = _add(system.data_dir, "agent", "   ")
    assert empty_name.returncode == 2 and "--display-name" in empty_name.stderr


def test_patient_gets_non_speaking_id_and_one_account_per_kvnr(system: System) -> None:
    account = system.add_account("patient", "Erika Mustermann", "--kvnr", "Z000000005")
    assert set(account) >= {"user_id", "homeserver", "password"}
    localpart = account["user_id"][1:].split(":")[0]
    assert "erika" not in localpart and "mustermann" not in localpart
    assert "z000000005" not in localpart
    assert account["password"] and len(account["password"]) >= 20
    again = _add(system.data_dir, "patient", "Erika Mustermann", "--kvnr", "Z000000005")
    assert again.returncode == 0 and f"exists already: patient {account['user_id']}" in again.stdout
    shown = json.loads(
        messenger_cli(
            "accounts", "show", "Z000000005", "--data-dir", str(system.data_dir), "--json"
        ).stdout
    )
    assert shown["user_id"] == account["user_id"] and shown["has_kvnr"] is True
    assert system.files_containing(["Z000000005"], "messenger.db*") == []


def test_practice_id_is_derived_from_its_name_and_kept_unique(system: System) -> None:
    first = system.add_account("practice", "Praxis Dr. Müller")
    second = system.add_account("practice", "Praxis Dr. Müller")
    assert first["user_id"].startswith("@praxis-dr-mueller")
    assert second["user_id"] != first["user_id"]
    assert first["service_room_id"]  # practices talk to the service bot too


def test_homeserver_down_gives_a_clear_error(tmp_path: Path) -> None:
    messenger_cli("init", "--data-dir", str(tmp_path), "--port", "1")
    result = _add(tmp_path, "agent", "A")
    assert result.returncode == 1 and "not reachable" in result.stderr
