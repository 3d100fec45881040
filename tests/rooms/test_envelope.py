"""Envelopes keep routing facts only: message content never reaches our database."""

from __future__ import annotations

import pytest

from messenger.namespace import ROOM_KIND_KEY
from messenger.rooms.envelope import MalformedEvent, envelope_of, parse_envelope
from messenger.rooms.kinds import RoomKind, kind_from_creation


def test_message_body_is_dropped() -> None:
    event = {
        "event_id": "$a",
        "room_id": "!r:x",
        "sender": "@p:x",
        "type": "m.room.message",
        "origin_server_ts": 5,
        "content": {"msgtype": "m.text", "body": "CANARY-secret"},
    }
    kept = envelope_of(event)
    assert "CANARY" not in str(kept)
    assert kept["content"] == {"msgtype": "m.text"}
    assert parse_envelope(kept).type == "m.room.message"


def test_encrypted_ciphertext_is_dropped() -> None:
    event = {
        "event_id": "$a",
        "room_id": "!r:x",
        "sender": "@p:x",
        "type": "m.room.encrypted",
        "origin_server_ts": 5,
        "content": {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AAAA", "session_id": "s"},
    }
    assert envelope_of(event)["content"] == {"algorithm": "m.megolm.v1.aes-sha2"}


def test_membership_and_kind_are_kept() -> None:
    member = envelope_of(
        {
            "event_id": "$m",
            "room_id": "!r:x",
            "sender": "@p:x",
            "type": "m.room.member",
            "state_key": "@p:x",
            "origin_server_ts": 1,
            "content": {"membership": "join", "displayname": "Erika"},
        }
    )
    assert member["content"] == {"membership": "join"}
    create = envelope_of(
        {
            "event_id": "$c",
            "room_id": "!r:x",
            "sender": "@b:x",
            "type": "m.room.create",
            "state_key": "",
            "origin_server_ts": 1,
            "content": {ROOM_KIND_KEY: "service"},
        }
    )
    assert kind_from_creation(parse_envelope(create).content) is RoomKind.SERVICE
    assert kind_from_creation({ROOM_KIND_KEY: "nonsense"}) is RoomKind.CHAT


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("just a string", "not an object"),
        ({"type": "m.room.message"}, "event_id"),
        (
            {
                "event_id": "$a",
                "room_id": "!r",
                "sender": "@s:x",
                "type": "t",
                "origin_server_ts": "now",
            },
            "origin_server_ts",
        ),
    ],
)
def test_malformed_events_are_named(event: object, reason: str) -> None:
    with pytest.raises(MalformedEvent, match=reason):
        parse_envelope(envelope_of(event))
