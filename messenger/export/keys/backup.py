"""The user's server-side key backup (`m.megolm_backup.v1.curve25519-aes-sha2`), opened with the
recovery key: either the backup key itself (older clients) or the secret-storage key that holds
it (Element today), or a security phrase for that secret storage."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import vodozemac

from messenger.export.client_api import V3, ApiError, ClientApi, q
from messenger.export.errors import ExportError
from messenger.export.keyring import KeyRing
from messenger.export.keys import secret_storage as ssss

log = logging.getLogger(__name__)
BACKUP_ALGORITHM = "m.megolm_backup.v1.curve25519-aes-sha2"


@dataclass(frozen=True)
class BackupSecret:
    """What the user typed: a recovery key (32 bytes) or a security phrase."""

    key: bytes | None = None
    phrase: str | None = None


def _public(private: bytes) -> str:
    return vodozemac.Curve25519SecretKey.from_bytes(private).public_key().to_base64()


class KeyBackup:
    def __init__(self, api: ClientApi, user_id: str) -> None:
        self._api = api
        self._user = user_id
        self._version = ""
        self._decryption: vodozemac.PkDecryption | None = None

    async def _account_data(self, kind: str) -> dict[str, Any] | None:
        try:
            return await self._api.json("GET", f"{V3}/user/{q(self._user)}/account_data/{q(kind)}")
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    async def open(self, secret: BackupSecret) -> None:
        try:
            info = await self._api.json("GET", f"{V3}/room_keys/version")
        except ApiError as error:
            if error.status == 404:
                raise ExportError(
                    "key backup: this account has no key backup on the server"
                ) from error
            raise
        if info.get("algorithm") != BACKUP_ALGORITHM:
            raise ExportError(f"key backup: unsupported algorithm {info.get('algorithm')!r}")
        public_key = str((info.get("auth_data") or {}).get("public_key", ""))
        private = await self._backup_key(secret, public_key)
        self._version = str(info["version"])
        self._decryption = vodozemac.PkDecryption.from_key(
            vodozemac.Curve25519SecretKey.from_bytes(private)
        )

    async def _backup_key(self, secret: BackupSecret, public_key: str) -> bytes:
        if secret.key is not None and _public(secret.key) == public_key:
            return secret.key  # the recovery key is the backup key itself
        default = await self._account_data(ssss.DEFAULT_KEY)
        key_id = str((default or {}).get("key", ""))
        description = await self._account_data(ssss.key_event(key_id)) if key_id else None
        stored = await self._account_data(ssss.BACKUP_SECRET)
        if description is None or stored is None:
            what = "recovery key" if secret.key is not None else "security phrase"
            raise ExportError(f"{what}: does not open this account's key backup")
        key = (
            secret.key
            if secret.key is not None
            else ssss.passphrase_key(secret.phrase or "", description)
        )
        private = ssss.backup_key_from_storage(key, key_id, description, stored)
        if _public(private) != public_key:
            raise ExportError("key backup: the key in secret storage is for an older backup")
        return private

    async def load(self, ring: KeyRing, room_id: str) -> int:
        """Add the backed-up keys of one room; their number."""
        assert self._decryption is not None, "open() first"
        try:
            data = await self._api.json(
                "GET", f"{V3}/room_keys/keys/{q(room_id)}", params={"version": self._version}
            )
        except ApiError as error:
            if error.status == 404:
                return 0
            raise
        added = 0
        for session_id, entry in (data.get("sessions") or {}).items():
            sealed = (entry or {}).get("session_data") or {}
            try:
                message = vodozemac.Message.from_base64(
                    str(sealed["ciphertext"]), str(sealed["mac"]), str(sealed["ephemeral"])
                )
                exported = json.loads(self._decryption.decrypt(message))
            except Exception:  # a broken or foreign entry: counted as missing, not fatal
                log.warning("skipped a backed-up room key that does not decrypt")
                continue
            added += ring.add(room_id, session_id, exported)
        return added
