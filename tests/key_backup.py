"""A server-side key backup made the way Element makes one: a Curve25519 backup key whose
public half is the backup version's auth_data, every room key PK-encrypted to it, and the
backup key itself kept in secret storage under a recovery key."""

from __future__ import annotations

import base64
import json
import os
from typing import Any
from urllib.parse import quote

import vodozemac

from messenger.export.keys import secret_storage as ssss
from messenger.export.keys.recovery_key import encode_recovery_key
from tests.e2e_client import E2EUser

V3 = "/_matrix/client/v3"


def _sessions(user: E2EUser) -> dict[str, Any]:
    assert user.client.olm is not None
    rooms: dict[str, Any] = {}
    for session in user.client.olm.inbound_group_store:
        exported = {
            "algorithm": "m.megolm.v1.aes-sha2",
            "sender_key": session.sender_key,
            "session_key": session.export_session(session.first_known_index),
            "sender_claimed_keys": {"ed25519": session.ed25519},
            "forwarding_curve25519_key_chain": session.forwarding_chain,
        }
        rooms.setdefault(session.room_id, {"sessions": {}})["sessions"][session.id] = exported
    return rooms


async def back_up_keys(user: E2EUser, *, in_secret_storage: bool = True) -> str:
    """Upload a key backup of every room key the client has; the recovery key to open it."""
    backup_key = vodozemac.Curve25519SecretKey()
    status, body = await user.api("POST", f"{V3}/room_keys/version", {
        "algorithm": "m.megolm_backup.v1.curve25519-aes-sha2",
        "auth_data": {"public_key": backup_key.public_key().to_base64()},
    })  # fmt: skip
    assert status == 200, body
    version = body["version"]
    encrypt = vodozemac.PkEncryption.from_key(backup_key.public_key())
    rooms: dict[str, Any] = {}
    for room_id, entry in _sessions(user).items():
        sessions = {}
        for session_id, exported in entry["sessions"].items():
            # vodozemac's to_base64 order: ephemeral key, MAC, ciphertext
            ephemeral, mac, ciphertext = encrypt.encrypt(json.dumps(exported).encode()).to_base64()
            sessions[session_id] = {
                "first_message_index": 0, "forwarded_count": 0, "is_verified": False,
                "session_data": {"ephemeral": ephemeral, "ciphertext": ciphertext, "mac": mac},
            }  # fmt: skip
        rooms[room_id] = {"sessions": sessions}
    status, body = await user.api("PUT", f"{V3}/room_keys/keys?version={version}", {"rooms": rooms})
    assert status == 200, body
    if not in_secret_storage:
        return encode_recovery_key(backup_key.to_bytes())
    storage_key, key_id = os.urandom(32), "exporttest"
    check = ssss.seal(storage_key, "", b"\0" * 32)
    secret = ssss.seal(storage_key, ssss.BACKUP_SECRET,
                       base64.b64encode(backup_key.to_bytes()).decode().rstrip("=").encode())  # fmt: skip
    account = f"{V3}/user/{quote(user.user_id)}/account_data"
    for kind, content in (
        (
            ssss.key_event(key_id),
            {"algorithm": ssss.AES_HMAC_SHA2, "iv": check.iv, "mac": check.mac},
        ),
        (ssss.DEFAULT_KEY, {"key": key_id}),
        (ssss.BACKUP_SECRET, {"encrypted": {key_id: secret.as_json()}}),
    ):
        status, body = await user.api("PUT", f"{account}/{quote(kind)}", content)
        assert status == 200, body
    return encode_recovery_key(storage_key)
