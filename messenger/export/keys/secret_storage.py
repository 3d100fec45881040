"""Secret storage (4S, `m.secret_storage.v1.aes-hmac-sha2`): where Element keeps the key-backup
key, encrypted with the user's recovery key. Sans I/O; the account data comes from the caller.

Per secret: HKDF-SHA-256 (salt: 32 zero bytes, info: the secret's name) → 32 bytes AES-256-CTR
key + 32 bytes HMAC-SHA-256 key; the MAC is over the ciphertext. The key itself is checked by
encrypting 32 zero bytes under the name "" and comparing the MAC stored with the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from messenger.export.errors import ExportError

AES_HMAC_SHA2 = "m.secret_storage.v1.aes-hmac-sha2"
DEFAULT_KEY = "m.secret_storage.default_key"
BACKUP_SECRET = "m.megolm_backup.v1"


def key_event(key_id: str) -> str:
    return f"m.secret_storage.key.{key_id}"


def unb64(value: str) -> bytes:
    return base64.b64decode(value + "=" * (-len(value) % 4))


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


@dataclass(frozen=True)
class Sealed:
    iv: str
    ciphertext: str
    mac: str

    def as_json(self) -> dict[str, str]:
        return {"iv": self.iv, "ciphertext": self.ciphertext, "mac": self.mac}


def _keys(key: bytes, name: str) -> tuple[bytes, bytes]:
    derived = HKDF(algorithm=hashes.SHA256(), length=64, salt=b"\0" * 32, info=name.encode())
    material = derived.derive(key)
    return material[:32], material[32:]


def _ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return cipher.update(data) + cipher.finalize()


def seal(key: bytes, name: str, plaintext: bytes, iv: bytes | None = None) -> Sealed:
    aes_key, mac_key = _keys(key, name)
    if iv is None:
        fresh = bytearray(os.urandom(16))
        fresh[8] &= 0x7F  # the spec clears bit 63 (counter room for the Android/iOS clients)
        iv = bytes(fresh)
    ciphertext = _ctr(aes_key, iv, plaintext)
    mac = hmac.new(mac_key, ciphertext, hashlib.sha256).digest()
    return Sealed(b64(iv), b64(ciphertext), b64(mac))


def open_sealed(key: bytes, name: str, sealed: dict[str, Any]) -> bytes:
    try:
        iv, ciphertext, mac = (unb64(str(sealed[k])) for k in ("iv", "ciphertext", "mac"))
    except (KeyError, ValueError) as error:
        raise ExportError(
            f"secret storage: the stored {name or 'key check'} is malformed"
        ) from error
    aes_key, mac_key = _keys(key, name)
    if not hmac.compare_digest(hmac.new(mac_key, ciphertext, hashlib.sha256).digest(), mac):
        raise ExportError("recovery key: does not match this account's secret storage")
    return _ctr(aes_key, iv, ciphertext)


def key_matches(key: bytes, description: dict[str, Any]) -> bool:
    """True if `key` is the one the key description (account data) was made for."""
    if description.get("algorithm") != AES_HMAC_SHA2:
        return False
    if "iv" not in description or "mac" not in description:
        return True  # old descriptions carry no check; the secret's own MAC decides
    check = seal(key, "", b"\0" * 32, iv=unb64(str(description["iv"])))
    return hmac.compare_digest(unb64(check.mac), unb64(str(description["mac"])))


def passphrase_key(passphrase: str, description: dict[str, Any]) -> bytes:
    """The key for a security phrase (`passphrase`: m.pbkdf2 with salt and iterations)."""
    info = description.get("passphrase") or {}
    if info.get("algorithm") != "m.pbkdf2":
        raise ExportError("security phrase: this account's secret storage has no phrase set")
    bits = int(info.get("bits", 256))
    return hashlib.pbkdf2_hmac(
        "sha512", passphrase.encode(), str(info["salt"]).encode(), int(info["iterations"]),
        bits // 8,
    )  # fmt: skip


def backup_key_from_storage(
    key: bytes, key_id: str, description: dict[str, Any], secret: dict[str, Any]
) -> bytes:
    """The key-backup private key stored in `m.megolm_backup.v1`, opened with `key`."""
    if not key_matches(key, description):
        raise ExportError("recovery key: does not match this account's secret storage")
    sealed = (secret.get("encrypted") or {}).get(key_id)
    if not isinstance(sealed, dict):
        raise ExportError("key backup: its key is not kept in secret storage under this key")
    return unb64(open_sealed(key, BACKUP_SECRET, sealed).decode())
