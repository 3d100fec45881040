"""Folding a batch of message envelopes into per-room and per-member activity. Sans I/O."""

from __future__ import annotations

from dataclasses import dataclass

from messenger.rooms.envelope import MESSAGE_TYPES, Envelope


@dataclass(frozen=True)
class Activity:
    """`count` new messages, the newest at `last_at` (ms)."""

    count: int
    last_at: int


def _add(totals: dict[tuple[str, ...], Activity], key: tuple[str, ...], at: int) -> None:
    seen = totals.get(key)
    totals[key] = (
        Activity(1, at) if seen is None else Activity(seen.count + 1, max(seen.last_at, at))
    )


def fold_messages(
    events: list[Envelope],
) -> tuple[dict[tuple[str, ...], Activity], dict[tuple[str, ...], Activity]]:
    """Returns ({(room,): activity}, {(room, sender): activity}) for the message events."""
    rooms: dict[tuple[str, ...], Activity] = {}
    members: dict[tuple[str, ...], Activity] = {}
    for event in events:
        if event.type in MESSAGE_TYPES and not event.is_state:
            _add(rooms, (event.room_id,), event.origin_server_ts)
            _add(members, (event.room_id, event.sender), event.origin_server_ts)
    return rooms, members
