"""A patient's insurer channel as a file, made by the desk bot (which holds the channel's keys)
with the same exporter patients use for their care chats, and sent back into the channel as an
encrypted attachment only the patient and the bot can open.

Asked for with "export" in the channel: the request is a `transcript` row of the desk outbox,
written with the confirmation in one transaction; the courier makes and sends the file with the
row's transaction id, so a crash neither loses the request nor sends the file twice.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from nio.crypto.attachments import encrypt_attachment

from messenger.bots.runtime import BotRuntime
from messenger.export.account import describe
from messenger.export.chat_export import ExportOptions, export_chat
from messenger.export.client_api import ClientApi
from messenger.export.files import Budget
from messenger.export.keyring import DeviceKeys

TRANSCRIPT = "transcript"
MIMETYPES = {"html": "text/html", "txt": "text/plain", "json": "application/json"}
FILES = {"html": "messages.html", "txt": "chat.txt", "json": "chat.json"}
ONE_PAGE = 10**9  # the transcript is one file


def request(kind: str, language: str, patient: str) -> dict[str, Any]:
    """What the outbox row keeps (sealed) until the courier makes the file."""
    return {"transcript": {"format": kind, "language": language, "patient": patient}}


async def transcript_message(
    runtime: BotRuntime, room_id: str, wanted: dict[str, Any], zone: str
) -> dict[str, Any]:
    """Export the channel as the bot sees it now; the m.file content that carries it."""
    client = runtime.client
    assert client is not None and client.olm is not None
    kind, language = str(wanted["format"]), str(wanted["language"])
    api = ClientApi(client.homeserver, client.access_token)
    try:
        chat = await describe(api, client.user_id, room_id)
        options = ExportOptions((kind,), attachments=False, language=language,
                                zone=ZoneInfo(zone), page_size=ONE_PAGE)  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="messenger-transcript-") as scratch:
            folder = Path(scratch) / "chat"
            await export_chat(api, DeviceKeys(client.olm), chat, str(wanted["patient"]), folder,
                              options, Budget(None))  # fmt: skip
            data = (folder / FILES[kind]).read_bytes()
        ciphertext, keys = encrypt_attachment(data)
        day = datetime.now(ZoneInfo(zone)).strftime("%Y-%m-%d")
        name = f"{'Verlauf' if language == 'de' else 'History'}-Kundenservice-{day}.{kind}"
        mxc = await api.upload(ciphertext, name)
    finally:
        await api.close()
    file = {"url": mxc, "key": keys["key"], "iv": keys["iv"], "hashes": keys["hashes"], "v": "v2"}
    return {"msgtype": "m.file", "body": name, "filename": name, "file": file,
            "info": {"mimetype": MIMETYPES[kind], "size": len(data)}}  # fmt: skip
