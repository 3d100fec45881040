"""Room kinds. Sans I/O."""

from __future__ import annotations

import enum
from typing import Any

from messenger.namespace import ROOM_KIND_KEY


class RoomKind(enum.StrEnum):
    SERVICE = "service"  # patient <-> service bot
    INSURER = "insurer"  # patient <-> insurer desk bot
    AGENT = "agent"  # desk bot <-> agents
    CARE = "care"  # patient <-> practice (marked at creation, or when a chat request is accepted)
    CHAT = "chat"  # any other room


def kind_from_creation(content: dict[str, Any]) -> RoomKind:
    """Rooms our bots create carry their kind in the creation content; others are plain chats."""
    marker = content.get(ROOM_KIND_KEY)
    try:
        return RoomKind(marker) if isinstance(marker, str) else RoomKind.CHAT
    except ValueError:
        return RoomKind.CHAT
