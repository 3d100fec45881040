"""Patients find practices from any Matrix client: third-party lookups through Synapse's client
API, and the service bot's `suche` in the encrypted service room."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from tests.directory.samples import vzd_bundle
from tests.system import System, messenger_cli


def _import(system: System, tmp_path: Path) -> None:
    bundle = tmp_path / "vzd.json"
    bundle.write_text(json.dumps(vzd_bundle()))
    messenger_cli("directory", "import", str(bundle), "--data-dir", str(system.data_dir))


async def test_third_party_lookup_through_synapse(system: System, e2e_user, tmp_path: Path) -> None:
    _import(system, tmp_path)
    patient = await e2e_user(system.add_account("patient", "Sucht Praxis"))
    headers = {"Authorization": f"Bearer {patient.client.access_token}"}
    base = f"{system.hs_url}/_matrix/client/v3/thirdparty"
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(f"{base}/protocols") as response:
            protocols = await response.json()
        assert "gesundheit" in protocols
        assert protocols["gesundheit"]["user_fields"] == ["q", "specialty", "city", "postcode"]
        async with session.get(f"{base}/user/gesundheit", params={"q": "Kardiologie"}) as response:
            hits = await response.json()
        assert [hit["userid"] for hit in hits] == ["@praxis-weber:kasse.example"]
        assert hits[0]["fields"]["city"] == "Berlin" and hits[0]["protocol"] == "gesundheit"
        async with session.get(
            f"{base}/user/gesundheit", params={"specialty": "Hausarzt", "city": "München"}
        ) as response:
            assert [hit["fields"]["name"] for hit in await response.json()] == [
                "Hausarztpraxis Müller"
            ]
        async with session.get(f"{base}/user/gesundheit", params={"q": "Versteckt"}) as response:
            assert await response.json() == []  # hidden from insured persons


async def test_service_bot_search_in_german_and_english_with_paging(
    system: System, e2e_user, tmp_path: Path
) -> None:
    _import(system, tmp_path)
    bulk = tmp_path / "bulk.csv"
    rows = ["id,matrix_id,name,specialty,street,postcode,city"] + [
        f"b{n},@bulk{n}:kasse.example,Praxis Nummer {n},Augenheilkunde,Weg {n},20095,Hamburg"
        for n in range(7)
    ]
    bulk.write_text("\n".join(rows) + "\n")
    messenger_cli("directory", "import", str(bulk), "--data-dir", str(system.data_dir))
    account = system.add_account("patient", "Bot Sucher")
    patient = await e2e_user(account)
    room = account["service_room_id"]
    await patient.wait_for(lambda: room in patient.invites)
    await patient.join(room)
    await patient.wait_for_message(room, "Willkommen")

    await patient.send_text(room, "suche Kardiologie Berlin")
    hit = await patient.wait_for_message(room, "Treffer für „Kardiologie Berlin“")
    assert "1. Praxis Dr. Weber — Kardiologie — Invalidenstraße 5, 10115 Berlin" in hit.body
    await patient.send_text(room, "search Augenarzt Hamburg")
    first = await patient.wait_for_message(room, "Results for “Augenarzt Hamburg”")
    assert "5. Praxis Nummer" in first.body and "Write “more”" in first.body
    await patient.send_text(room, "mehr")
    second = await patient.wait_for_message(room, "7. Praxis Nummer")
    assert "6. Praxis Nummer" in second.body and "„mehr“" not in second.body
    await patient.send_text(room, "suche Quantenheiler")
    await patient.wait_for_message(room, "Keine Treffer für „Quantenheiler“")
