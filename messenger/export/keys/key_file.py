"""Element's key-export file ("-----BEGIN MEGOLM SESSION DATA-----"): version 1, salt, IV,
PBKDF2-SHA-512 round count, AES-256-CTR ciphertext, HMAC-SHA-256 over all of it (the format
Element and matrix-nio write). Read here with hashlib's PBKDF2 (in C: Element uses 500,000
rounds, a second or so) and `cryptography`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from messenger.export.errors import ExportError

HEADER = "-----BEGIN MEGOLM SESSION DATA-----"
FOOTER = "-----END MEGOLM SESSION DATA-----"


def _payload(path: Path) -> bytes:
    text = "".join(path.read_text(errors="replace").split())
    if not text.startswith(HEADER.replace(" ", "")) or not text.endswith(FOOTER.replace(" ", "")):
        raise ExportError(f"--keys: {path.name} is not a key-export file (no MEGOLM SESSION DATA)")
    body = text[len(HEADER.replace(" ", "")) : -len(FOOTER.replace(" ", ""))]
    try:
        data = base64.b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as error:
        raise ExportError(f"--keys: {path.name} is damaged (not base64)") from error
    if len(data) < 1 + 16 + 16 + 4 + 32 or data[0] != 1:
        raise ExportError(f"--keys: {path.name} is damaged or of an unknown version")
    return data


def read_key_file(path: Path, passphrase: str) -> list[dict[str, Any]]:
    if not path.is_file():
        raise ExportError(f"--keys: no such file: {path}")
    data = _payload(path)
    salt, iv, rounds = data[1:17], data[17:33], int.from_bytes(data[33:37], "big")
    ciphertext, mac = data[37:-32], data[-32:]
    key = hashlib.pbkdf2_hmac("sha512", passphrase.encode(), salt, rounds, 64)
    if not hmac.compare_digest(hmac.new(key[32:], data[:-32], hashlib.sha256).digest(), mac):
        raise ExportError(f"--keys: wrong passphrase for {path.name}")
    cipher = Cipher(algorithms.AES(key[:32]), modes.CTR(iv)).decryptor()
    try:
        sessions = json.loads(cipher.update(ciphertext) + cipher.finalize())
    except ValueError as error:
        raise ExportError(f"--keys: {path.name} holds no readable keys") from error
    if not isinstance(sessions, list):
        raise ExportError(f"--keys: {path.name} holds no list of room keys")
    return [entry for entry in sessions if isinstance(entry, dict)]
