"""The Megolm room keys an export decrypts with, and the decryption itself (vodozemac).

The exporter holds keys only in memory, for the run: imported from a key-export file or the key
backup, never written anywhere.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

import vodozemac

log = logging.getLogger(__name__)
MEGOLM = "m.megolm.v1.aes-sha2"
ENCRYPTED = "m.room.encrypted"


class Decrypter(Protocol):
    def decrypt(self, room_id: str, event: dict[str, Any]) -> dict[str, Any] | None:
        """The event with its clear type and content, or None if no key opens it."""


def clear_event(event: dict[str, Any], plaintext: str, room_id: str) -> dict[str, Any] | None:
    """The envelope with the decrypted type and content (None if it claims another room)."""
    try:
        clear = json.loads(plaintext)
    except ValueError:
        return None
    if not isinstance(clear, dict) or clear.get("room_id", room_id) != room_id:
        return None
    content = dict(clear.get("content") or {})
    relation = (event.get("content") or {}).get("m.relates_to")
    if relation and "m.relates_to" not in content:
        content["m.relates_to"] = relation  # clients keep relations outside the ciphertext
    return {**event, "type": clear.get("type"), "content": content, "encrypted": True}


class KeyRing:
    def __init__(self) -> None:
        self._sessions: dict[tuple[str, str], vodozemac.InboundGroupSession] = {}

    def add(self, room_id: str, session_id: str | None, exported: dict[str, Any]) -> bool:
        """One session as in a key export / decrypted backup entry; False if unusable."""
        if exported.get("algorithm", MEGOLM) != MEGOLM or not exported.get("session_key"):
            return False
        try:
            session = vodozemac.InboundGroupSession.import_session(
                vodozemac.ExportedSessionKey(str(exported["session_key"]))
            )
        except Exception:  # vodozemac raises its own types for a bad key
            log.warning("skipped an unreadable room key")
            return False
        if session_id is not None and session.session_id != session_id:
            return False
        key = (room_id, session.session_id)
        known = self._sessions.get(key)
        if known is None or session.first_known_index < known.first_known_index:
            self._sessions[key] = session
        return True

    def add_export(self, sessions: list[Any]) -> int:
        added = 0
        for entry in sessions:
            if isinstance(entry, dict) and entry.get("room_id"):
                added += self.add(str(entry["room_id"]), entry.get("session_id"), entry)
        return added

    def decrypt(self, room_id: str, event: dict[str, Any]) -> dict[str, Any] | None:
        content = event.get("content") or {}
        if content.get("algorithm") != MEGOLM:
            return None
        session = self._sessions.get((room_id, str(content.get("session_id"))))
        if session is None:
            return None
        try:
            message = vodozemac.MegolmMessage.from_base64(str(content["ciphertext"]))
            decrypted = session.decrypt(message)
        except Exception:  # an index before the key's first one, or a broken ciphertext
            return None
        return clear_event(event, decrypted.plaintext.decode(), room_id)


class DeviceKeys:
    """The room keys a running client's device holds (a bot's nio store): for exports made by
    the bot itself, such as a patient's insurer-channel transcript."""

    def __init__(self, olm: Any) -> None:
        self._olm = olm  # nio.crypto.Olm

    def decrypt(self, room_id: str, event: dict[str, Any]) -> dict[str, Any] | None:
        content = event.get("content") or {}
        if content.get("algorithm") != MEGOLM:
            return None
        session = self._olm.inbound_group_store.get(
            room_id, str(content.get("sender_key")), str(content.get("session_id"))
        )
        if session is None:
            return None
        try:
            plaintext, _index = session.decrypt(str(content["ciphertext"]))
        except Exception:  # vodozemac's own errors: index before the key, broken ciphertext
            return None
        return clear_event(event, str(plaintext), room_id)
