"""Encrypting secrets we must keep in our database (a bot's access token, its cross-signing seeds).

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with a key derived from the pickle key in
secrets/, so a copy of the database alone does not hand out a bot's credentials.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class SecretBoxError(Exception):
    """A stored secret cannot be opened (wrong key or damaged)."""


class SecretBox:
    def __init__(self, key_material: str) -> None:
        digest = hashlib.sha256(b"messenger-db-secrets\x00" + key_material.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, ValueError):
            raise SecretBoxError(
                "a stored secret could not be decrypted (pickle key changed?)"
            ) from None
