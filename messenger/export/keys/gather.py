"""All room keys of a run, from every source the user gave, before anything is written."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from messenger.export.account import Chat
from messenger.export.client_api import ClientApi
from messenger.export.errors import ExportError
from messenger.export.keyring import KeyRing
from messenger.export.keys.backup import BackupSecret, KeyBackup
from messenger.export.keys.key_file import read_key_file


async def gather_keys(
    api: ClientApi, user_id: str, chats: Sequence[Chat],
    key_files: Sequence[tuple[Path, str]], backup: BackupSecret | None,
) -> KeyRing:  # fmt: skip
    if not key_files and backup is None and any(chat.encrypted for chat in chats):
        raise ExportError(
            "no room keys: give --keys FILE (an Element key export) and/or --recovery-key "
            "(your key backup) — without them encrypted messages cannot be read"
        )
    ring = KeyRing()
    for path, passphrase in key_files:
        ring.add_export(read_key_file(path, passphrase))
    if backup is not None:
        store = KeyBackup(api, user_id)
        await store.open(backup)
        for chat in chats:
            await store.load(ring, chat.room_id)
    return ring
