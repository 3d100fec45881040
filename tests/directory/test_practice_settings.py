"""A practice tells the service bot whether it is listed and accepts requests; search follows."""

from __future__ import annotations

import uuid
from pathlib import Path

from messenger.directory.query import parse_free_text
from messenger.directory.search import ProviderDirectory
from tests.system import System, messenger_cli


async def test_practice_switches_listing_and_requests_through_the_bot(
    system: System, e2e_user, tmp_path: Path
) -> None:
    username = f"praxis-{uuid.uuid4().hex[:6]}"
    matrix_id = f"@{username}:{system.settings.config.homeserver.server_name}"
    listing = tmp_path / "eigen.csv"
    listing.write_text(
        "id,matrix_id,name,specialty,street,postcode,city\n"
        f"e1,{matrix_id},Praxis Sonnenschein,Dermatologie,Lindenallee 3,04109,Leipzig\n"
    )
    messenger_cli("directory", "import", str(listing), "--data-dir", str(system.data_dir))
    account = system.add_account("practice", "Praxis Sonnenschein", "--username", username)
    assert account["user_id"] == matrix_id and account["service_room_id"]
    practice = await e2e_user(account)
    room = account["service_room_id"]
    await practice.wait_for(lambda: room in practice.invites)
    await practice.join(room)
    greeting = await practice.wait_for_message(room, "Willkommen")
    assert "Verzeichnis für Versicherte" in greeting.body

    directory = ProviderDirectory(system.db)

    async def found() -> bool:
        return bool(await directory.search(parse_free_text("Sonnenschein")))

    assert await found()
    await practice.send_text(room, "anfragen nein")
    reply = await practice.wait_for_message(room, "Neue Chat-Anfragen: werden nicht angenommen")
    assert "Praxis Sonnenschein" in reply.body
    assert not await found()
    await practice.send_text(room, "anfragen ja")
    await practice.wait_for_message(room, "Neue Chat-Anfragen: werden angenommen")
    assert await found()
    await practice.send_text(room, "listed no")
    await practice.wait_for_message(room, "Directory: not listed")
    assert not await found()
    await practice.send_text(room, "status")
    await practice.wait_for_message(room, "Verzeichnis: nicht sichtbar")
