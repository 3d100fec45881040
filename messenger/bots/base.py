"""The small contract every bot implements; the runtime calls it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from messenger.ids import RoomID, UserID

if TYPE_CHECKING:
    from messenger.bots.runtime import BotRuntime


class Bot(ABC):
    """Reacts to what happens in the bot's rooms. Called only once the bot's device is ready."""

    @abstractmethod
    async def on_ready(self, runtime: BotRuntime) -> None:
        """After the first sync: catch up on anything missed while the bot was down."""

    @abstractmethod
    async def on_join(self, runtime: BotRuntime, room_id: RoomID, user: UserID) -> None:
        """Someone (not the bot) joined one of the bot's rooms."""

    @abstractmethod
    async def on_text(
        self, runtime: BotRuntime, room_id: RoomID, sender: UserID, body: str
    ) -> None:
        """A decrypted text message from someone else."""

    @abstractmethod
    async def on_undecryptable(self, runtime: BotRuntime, room_id: RoomID, sender: UserID) -> None:
        """A message whose key never arrived."""
