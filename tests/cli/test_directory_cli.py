"""`messenger directory` as an operator uses it (our own database; no homeserver needed)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.directory.samples import CSV, vzd_bundle
from tests.system import messenger_cli


def _dir(tmp_path: Path) -> str:
    messenger_cli("init", "--data-dir", str(tmp_path))
    return str(tmp_path)


def test_import_fhir_then_csv_and_search(tmp_path: Path) -> None:
    data = _dir(tmp_path)
    bundle = tmp_path / "vzd.json"
    bundle.write_text(json.dumps(vzd_bundle()))
    summary = json.loads(
        messenger_cli("directory", "import", str(bundle), "--data-dir", data, "--json").stdout
    )
    assert (summary["source"], summary["added"], summary["removed"]) == ("vzd", 7, 0)
    assert {r["where"] for r in summary["rejected"]} == {
        "HealthcareService/bad1", "HealthcareService/bad2", "HealthcareService/bad3",
    }  # fmt: skip
    listing = tmp_path / "kv.csv"
    listing.write_text(CSV)
    plain = messenger_cli("directory", "import", str(listing), "--data-dir", data, "--source", "kv")
    assert "kv: 3 added" in plain.stdout and "rejected line 5: matrix_id" in plain.stderr
    hits = json.loads(
        messenger_cli("directory", "search", "Hausarzt", "--data-dir", data, "--json").stdout
    )
    assert [h["name"] for h in hits] == ["Hausarztpraxis Müller"]
    everything = messenger_cli(
        "directory", "search", "Kardiologie", "--all", "--data-dir", data
    ).stdout
    assert "Praxis Versteckt" in everything and "[not shown to patients]" in everything
    shown = json.loads(
        messenger_cli(
            "directory", "show", "@praxis-weber:kasse.example", "--data-dir", data, "--json"
        ).stdout
    )
    assert {row["source"] for row in shown} == {"vzd", "kv"}
    assert "of 10 entries" in messenger_cli("directory", "list", "--data-dir", data).stdout


def test_bad_input_changes_nothing_and_says_why(tmp_path: Path) -> None:
    data = _dir(tmp_path)
    bundle = tmp_path / "vzd.json"
    bundle.write_text(json.dumps(vzd_bundle()))
    messenger_cli("directory", "import", str(bundle), "--data-dir", data)
    bundle.write_text('{"resourceType": "Patient"}')
    refused = messenger_cli("directory", "import", str(bundle), "--data-dir", data, check=False)
    assert refused.returncode == 1 and "not a FHIR Bundle" in refused.stderr
    bundle.write_text("{not json")
    broken = messenger_cli("directory", "import", str(bundle), "--data-dir", data, check=False)
    assert broken.returncode == 2 and "not JSON" in broken.stderr
    empty = messenger_cli("directory", "search", " ", "--data-dir", data, check=False)
    assert empty.returncode == 2 and "say what to search for" in empty.stderr
    assert "of 7 entries" in messenger_cli("directory", "list", "--data-dir", data).stdout
