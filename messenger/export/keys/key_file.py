"""Element's key-export file ("-----BEGIN MEGOLM SESSION DATA-----", AES-CTR + HMAC, PBKDF2
passphrase), read with matrix-nio's reader (the same format nio and Element write)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nio.crypto.key_export import decrypt_and_read

from messenger.export.errors import ExportError


def read_key_file(path: Path, passphrase: str) -> list[dict[str, Any]]:
    if not path.is_file():
        raise ExportError(f"--keys: no such file: {path}")
    try:
        data = decrypt_and_read(str(path), passphrase)
    except (ValueError, IndexError) as error:
        reason = str(error) or "empty"
        if "HMAC" in reason or "passphrase" in reason.lower():
            raise ExportError(f"--keys: wrong passphrase for {path.name}") from error
        raise ExportError(f"--keys: {path.name} is not a key-export file ({reason})") from error
    try:
        sessions = json.loads(data)
    except ValueError as error:
        raise ExportError(f"--keys: wrong passphrase for {path.name}") from error
    if not isinstance(sessions, list):
        raise ExportError(f"--keys: {path.name} holds no list of room keys")
    return [entry for entry in sessions if isinstance(entry, dict)]
