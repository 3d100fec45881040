"""The service bot's retention commands: the leave-prompt threshold ("frist"), and the answers
to a leave prompt ("verlassen 2", "alle verlassen", "behalten 2")."""

from __future__ import annotations

import logging

from messenger.bots.commands import Command
from messenger.bots.runtime import BotRuntime
from messenger.bots.texts import text
from messenger.db.database import now_ms
from messenger.db.stores.accounts import AccountRow
from messenger.ids import RoomID
from messenger.retention.leave_prompts import LeavePrompts
from messenger.retention.thresholds import LeaveThresholds, ThresholdError, parse_threshold

log = logging.getLogger(__name__)


def _numbers(argument: str) -> list[int] | None:
    """ "all" -> None (every open offer); "2 3" -> [2, 3]; anything else raises ValueError."""
    if argument == "all":
        return None
    numbers = [int(word) for word in argument.split()]
    if not numbers or any(n < 1 for n in numbers):
        raise ValueError(argument)
    return numbers


class LeaveCommands:
    def __init__(self, prompts: LeavePrompts, thresholds: LeaveThresholds) -> None:
        self._prompts = prompts
        self._thresholds = thresholds

    def _value(self, months: int | None, lang: str) -> str:
        if months is None:
            return text("off_value", lang)
        return text("months_value", lang, months=str(months))

    async def handle(
        self, runtime: BotRuntime, room: RoomID, owner: AccountRow, command: Command, lang: str
    ) -> None:
        if command.name == "threshold":
            await self._threshold(runtime, room, owner, command.argument, lang)
            return
        numbers = _numbers(command.argument)
        if command.name == "leave":
            outcome = await self._prompts.leave(owner.user_id, numbers, now_ms())
        else:
            outcome = await self._prompts.keep(owner.user_id, numbers, now_ms())
        replies = []
        if outcome.left:
            key = "leave_done" if command.name == "leave" else "keep_done"
            replies.append(text(key, lang, chats=", ".join(outcome.left)))
        if outcome.failed:
            replies.append(text("leave_failed", lang, chats=", ".join(outcome.failed)))
        if outcome.unknown:
            still_open = await self._prompts.open_prompts(owner.user_id)
            listing = ", ".join(str(p.number) for p in still_open)
            replies.append(
                text(
                    "leave_unknown",
                    lang,
                    numbers=", ".join(map(str, outcome.unknown)),
                    open=listing or "–",
                )
            )
        if not replies:
            replies.append(text("leave_none_open", lang))
        await runtime.send_notice(room, "\n".join(replies))

    async def _threshold(
        self, runtime: BotRuntime, room: RoomID, owner: AccountRow, argument: str, lang: str
    ) -> None:
        if not argument:
            months = await self._thresholds.current(owner.user_id)
            await runtime.send_notice(
                room, text("threshold_current", lang, value=self._value(months, lang))
            )
            return
        try:
            threshold = parse_threshold(argument)
        except ThresholdError:
            await runtime.send_notice(room, text("threshold_invalid", lang, value=f"„{argument}“"))
            return
        await self._thresholds.set(owner.user_id, threshold)
        if threshold.months is None:
            await runtime.send_notice(room, text("threshold_off", lang))
        else:
            await runtime.send_notice(
                room, text("threshold_set", lang, value=self._value(threshold.months, lang))
            )
