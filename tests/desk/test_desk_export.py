"""The insurer-channel transcript: the patient writes "export", the desk bot (which holds the
channel's keys) sends the channel as an encrypted file that the patient decrypts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.desk.desk_people import concern, media_in, patient, staff, ticket_room_of
from tests.media import download_decrypted
from tests.system import System


async def test_export_sends_the_channel_as_an_encrypted_file_the_patient_reads(
    system: System, e2e_user: Any
) -> None:
    erika = await patient(system, e2e_user, "Erika Verlauf")
    anna = await staff(system, e2e_user, "Anna Verlauf")
    channel = erika.channel  # type: ignore[attr-defined]
    number = await concern(erika, "Krankengeld", "Wann kommt mein Krankengeld für Oktober?")
    await anna.send_text(anna.queue, f"nehmen {number}")  # type: ignore[attr-defined]
    room = await ticket_room_of(anna, number)
    await anna.wait_for_message(room, "Wann kommt mein Krankengeld")
    await anna.send_text(room, "!notiz nur intern: Arbeitgeber anrufen")
    await anna.wait_for_message(room, "Notiz gespeichert")
    await anna.send_text(room, "Ihr Krankengeld wird am Freitag überwiesen.")
    await erika.wait_for_message(channel, "Anna: Ihr Krankengeld wird am Freitag überwiesen.")

    await erika.send_text(channel, "export")
    await erika.wait_for_message(channel, "Ich erstelle den Verlauf dieses Kanals als Datei (HTML)")
    sent = await media_in(erika, channel, transcript_name(".html"))
    assert sent["info"]["mimetype"] == "text/html" and "url" not in sent  # encrypted file only
    page = (await download_decrypted(system, erika, sent["file"])).decode()
    assert "Wann kommt mein Krankengeld für Oktober?" in page
    assert "Anna: Ihr Krankengeld wird am Freitag überwiesen." in page
    assert "Willkommen beim Kundenservice" in page and "Erika Verlauf" in page
    assert "nur intern" not in page  # notes stay in the ticket room
    assert "entschlüsselt" not in page  # the bot holds every key of the channel

    await erika.send_text(channel, "export json")
    sent = await media_in(erika, channel, transcript_name(".json"))
    data = json.loads(await download_decrypted(system, erika, sent["file"]))
    texts = [m["text"] for m in data["messages"]]
    assert data["roomId"] == channel and data["summary"]["undecryptable"] == 0
    assert "Wann kommt mein Krankengeld für Oktober?" in texts and "export" in texts


def transcript_name(suffix: str) -> str:
    """The transcript's file name: Verlauf-Kundenservice-<day>.<format>."""
    day = datetime.now(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%d")
    return f"Verlauf-Kundenservice-{day}{suffix}"
