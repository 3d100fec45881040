"""Event envelopes: what the appservice keeps of an event. Sans I/O.

Only routing facts are kept (ids, sender, type, time) plus a whitelist of state content needed for
the registry. Message content is never kept — in encrypted rooms it is ciphertext anyway, and even
an unencrypted message body must not reach our database or logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from messenger.namespace import ROOM_KIND_KEY

_TOP_LEVEL = ("event_id", "room_id", "sender", "type", "state_key", "origin_server_ts", "redacts")
_CONTENT_WHITELIST: dict[str, tuple[str, ...]] = {
    "m.room.member": ("membership",),
    "m.room.create": ("creator", "room_version", "type", ROOM_KIND_KEY),
    "m.room.encryption": ("algorithm",),
    "m.room.join_rules": ("join_rule",),
    "m.room.history_visibility": ("history_visibility",),
    "m.room.encrypted": ("algorithm",),
    "m.room.message": ("msgtype",),
    "m.room.redaction": ("redacts",),
}
MESSAGE_TYPES = frozenset({"m.room.encrypted", "m.room.message", "m.sticker"})


class MalformedEvent(ValueError):
    """An event lacks a field every event has; it is recorded as failed and skipped."""


def envelope_of(event: object) -> dict[str, Any]:
    """Whatever shape the event has, return a JSON-safe envelope without message content."""
    if not isinstance(event, dict):
        return {"malformed": type(event).__name__}
    kept: dict[str, Any] = {}
    for key in _TOP_LEVEL:
        value = event.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            kept[key] = value
    content = event.get("content")
    event_type = event.get("type")
    if isinstance(content, dict) and isinstance(event_type, str):
        allowed = _CONTENT_WHITELIST.get(event_type, ())
        picked = {
            key: content[key]
            for key in allowed
            if isinstance(content.get(key), str | int | bool) and key in content
        }
        if picked:
            kept["content"] = picked
    return kept


@dataclass(frozen=True)
class Envelope:
    event_id: str
    room_id: str
    sender: str
    type: str
    origin_server_ts: int
    state_key: str | None
    content: dict[str, Any]

    @property
    def is_state(self) -> bool:
        return self.state_key is not None


def parse_envelope(kept: dict[str, Any]) -> Envelope:
    """The typed envelope, or MalformedEvent naming what is missing."""
    if "malformed" in kept:
        raise MalformedEvent(f"event is a {kept['malformed']}, not an object")
    missing = [
        key
        for key, kind in (
            ("event_id", str),
            ("room_id", str),
            ("sender", str),
            ("type", str),
            ("origin_server_ts", int),
        )
        if not isinstance(kept.get(key), kind)
    ]
    if missing:
        raise MalformedEvent(f"event lacks {', '.join(missing)}")
    state_key = kept.get("state_key")
    return Envelope(
        event_id=kept["event_id"],
        room_id=kept["room_id"],
        sender=kept["sender"],
        type=kept["type"],
        origin_server_ts=kept["origin_server_ts"],
        state_key=state_key if isinstance(state_key, str) else None,
        content=kept.get("content", {}),
    )
