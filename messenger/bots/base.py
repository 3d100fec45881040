"""The small contract every bot implements; the runtime calls it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from messenger.ids import EventID, RoomID, UserID

if TYPE_CHECKING:
    from messenger.bots.runtime import BotRuntime


TEXT_TYPES = ("m.text",)
MEDIA_TYPES = ("m.image", "m.file", "m.video", "m.audio")


@dataclass(frozen=True)
class InboundMessage:
    """A (decrypted) event someone else sent into one of the bot's rooms: a message (text or
    media), a reaction, or a poll answer."""

    event_id: EventID
    event_type: str
    content: dict[str, Any]
    origin_ts: int

    @property
    def msgtype(self) -> str:
        value = self.content.get("msgtype")
        return value if isinstance(value, str) else ""

    @property
    def body(self) -> str:
        value = self.content.get("body")
        return value if isinstance(value, str) else ""


class Bot(ABC):
    """Reacts to what happens in the bot's rooms. Called only once the bot's device is ready."""

    @abstractmethod
    async def on_ready(self, runtime: BotRuntime) -> None:
        """After the first sync: catch up on anything missed while the bot was down."""

    @abstractmethod
    async def on_join(self, runtime: BotRuntime, room_id: RoomID, user: UserID) -> None:
        """Someone (not the bot) joined one of the bot's rooms."""

    async def on_text(  # noqa: B027 - a bot that reads every message overrides on_message
        self, runtime: BotRuntime, room_id: RoomID, sender: UserID, body: str
    ) -> None:
        """A decrypted text message from someone else (called by the default on_message)."""

    async def on_message(
        self, runtime: BotRuntime, room_id: RoomID, sender: UserID, message: InboundMessage
    ) -> None:
        """Any message, reaction or poll answer; by default only text goes on to `on_text`."""
        if message.event_type == "m.room.message" and message.msgtype in TEXT_TYPES:
            await self.on_text(runtime, room_id, sender, message.body)

    @abstractmethod
    async def on_undecryptable(self, runtime: BotRuntime, room_id: RoomID, sender: UserID) -> None:
        """A message whose key never arrived."""
