"""Folding message envelopes into activity counts."""

from __future__ import annotations

from messenger.rooms.activity import Activity, fold_messages
from messenger.rooms.envelope import Envelope


def _env(
    room: str, sender: str, at: int, kind: str = "m.room.encrypted", state: str | None = None
) -> Envelope:
    return Envelope(f"${room}{sender}{at}", room, sender, kind, at, state, {})


def test_fold_counts_messages_and_keeps_the_newest_time() -> None:
    rooms, members = fold_messages(
        [
            _env("!a", "@p", 5),
            _env("!a", "@p", 3),
            _env("!a", "@d", 7),
            _env("!b", "@p", 1),
            _env("!a", "@p", 9, kind="m.room.member", state="@p"),
        ]
    )
    assert rooms == {("!a",): Activity(3, 7), ("!b",): Activity(1, 1)}
    assert members[("!a", "@p")] == Activity(2, 5)
    assert members[("!a", "@d")] == Activity(1, 7)
