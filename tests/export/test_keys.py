"""Room keys for the export: recovery key encoding, secret storage, the key ring. Pure."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import vodozemac
from nio.crypto.key_export import encrypt_and_save

from messenger.export.errors import ExportError
from messenger.export.keyring import KeyRing
from messenger.export.keys import secret_storage as ssss
from messenger.export.keys.key_file import read_key_file
from messenger.export.keys.recovery_key import decode_recovery_key, encode_recovery_key


def test_a_recovery_key_survives_its_printed_form_and_a_typo_is_caught() -> None:
    key = os.urandom(32)
    printed = encode_recovery_key(key)
    assert printed.startswith("E") and len(printed.split()) == 12  # as Element shows it
    assert decode_recovery_key(printed) == key
    assert decode_recovery_key(printed.replace(" ", "")) == key
    typo = printed[:5] + ("2" if printed[5] != "2" else "3") + printed[6:]
    with pytest.raises(ExportError, match=r"mistyped|not a recovery key"):
        decode_recovery_key(typo)
    with pytest.raises(ExportError, match="not a character"):
        decode_recovery_key("EsT0 ...")
    with pytest.raises(ExportError, match="not a recovery key"):
        decode_recovery_key("EsTc")


def test_secret_storage_opens_only_with_its_key() -> None:
    key, other = os.urandom(32), os.urandom(32)
    check = ssss.seal(key, "", b"\0" * 32)
    description = {"algorithm": ssss.AES_HMAC_SHA2, "iv": check.iv, "mac": check.mac}
    secret = {"encrypted": {"k1": ssss.seal(key, ssss.BACKUP_SECRET, b"AAEC").as_json()}}
    assert ssss.key_matches(key, description) and not ssss.key_matches(other, description)
    assert ssss.backup_key_from_storage(key, "k1", description, secret) == bytes([0, 1, 2])
    with pytest.raises(ExportError, match="does not match"):
        ssss.backup_key_from_storage(other, "k1", description, secret)
    with pytest.raises(ExportError, match="not kept in secret storage"):
        ssss.backup_key_from_storage(key, "k2", description, secret)


def test_a_security_phrase_derives_the_storage_key() -> None:
    description = {"passphrase": {"algorithm": "m.pbkdf2", "salt": "salz", "iterations": 1000}}
    first = ssss.passphrase_key("Mein Satz", description)
    assert len(first) == 32 and first == ssss.passphrase_key("Mein Satz", description)
    assert first != ssss.passphrase_key("mein satz", description)
    with pytest.raises(ExportError, match="no phrase"):
        ssss.passphrase_key("x", {})


def _encrypted(
    session: vodozemac.GroupSession, room: str, clear: dict[str, object]
) -> dict[str, object]:
    ciphertext = session.encrypt(json.dumps({**clear, "room_id": room}).encode()).to_base64()
    return {"type": "m.room.encrypted", "event_id": "$e", "sender": "@a:x", "origin_server_ts": 1,
            "content": {"algorithm": "m.megolm.v1.aes-sha2", "session_id": session.session_id,
                        "ciphertext": ciphertext, "sender_key": "k", "device_id": "D"}}  # fmt: skip


def test_the_key_ring_decrypts_only_what_its_keys_open() -> None:
    outbound = vodozemac.GroupSession()
    first = _encrypted(outbound, "!r:x", {"type": "m.room.message", "content": {"body": "eins"}})
    inbound = vodozemac.InboundGroupSession(outbound.session_key)
    exported = {"algorithm": "m.megolm.v1.aes-sha2", "room_id": "!r:x",
                "session_key": inbound.export_at(1).to_base64()}  # fmt: skip
    second = _encrypted(outbound, "!r:x", {"type": "m.room.message", "content": {"body": "zwei"}})
    ring = KeyRing()
    assert ring.add_export([exported, {"room_id": "!r:x", "session_key": "kaputt"}, "x"]) == 1
    assert ring.decrypt("!r:x", first) is None  # before the key's first index
    clear = ring.decrypt("!r:x", second)
    assert (
        clear is not None
        and clear["content"]["body"] == "zwei"
        and clear["type"] == "m.room.message"
    )
    assert ring.decrypt("!other:x", second) is None
    moved = _encrypted(outbound, "!other:x", {"type": "m.room.message", "content": {}})
    assert ring.decrypt("!r:x", moved) is None  # claims another room: refused


def test_a_key_export_file_opens_with_its_passphrase_only(tmp_path: Path) -> None:
    path = tmp_path / "element-keys.txt"
    sessions = [{"room_id": "!r:x", "session_id": "s", "session_key": "k"}]
    encrypt_and_save(json.dumps(sessions).encode(), str(path), "richtig", count=1000)
    assert read_key_file(path, "richtig") == sessions
    with pytest.raises(ExportError, match=r"wrong passphrase for element-keys\.txt"):
        read_key_file(path, "falsch")
    (tmp_path / "notes.txt").write_text("Einkaufsliste")
    with pytest.raises(ExportError, match="not a key-export file"):
        read_key_file(tmp_path / "notes.txt", "richtig")
    with pytest.raises(ExportError, match="no such file"):
        read_key_file(tmp_path / "missing.txt", "richtig")
