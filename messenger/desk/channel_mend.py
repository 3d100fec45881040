"""Insurer channels the homeserver no longer has, made anew (the patient invited as at account
creation).

Before the cleanup of never-used rooms spared bot rooms, it deleted channels a patient had not
opened yet; an operator may delete one by hand. Finding them means listing every room the desk
bot is in - one channel per insured person, millions at scale - so this is not done at every
start: the appservice runs it once (the first start with this version, and again at the next
start while a channel could not be replaced), and operators run it by hand after deleting rooms
(`messenger retention run mend_insurer_channels`). A channel with tickets is left as it is and
logged: its tickets belong to that room. One channel failing does not stop the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from messenger.bridge.errors import HomeserverUnreachable, MatrixError
from messenger.config import duration_ms
from messenger.db.stores import desk as desk_store
from messenger.desk import rooms as desk_rooms
from messenger.ids import RoomID, UserID
from messenger.retention.context import JobContext

log = logging.getLogger(__name__)


class ChannelsNotMended(RuntimeError):
    """Some gone channels could not be replaced: the job counts as failed (run again)."""


@dataclass(frozen=True)
class MendResult:
    checked: int
    replaced: int
    kept_with_tickets: int
    failed: int  # gone, but not replaced
    undecided: int  # the homeserver could not tell whether they still exist

    def as_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked, "replaced": self.replaced,
            "kept_with_tickets": self.kept_with_tickets, "failed": self.failed,
            "undecided": self.undecided,
        }  # fmt: skip


class ChannelMend:
    def __init__(self, ctx: JobContext) -> None:
        self._settings = ctx.settings
        self._db = ctx.db
        self._hs = ctx.hs
        self._admin_token = ctx.admin_token
        self._bot = ctx.settings.config.bot_user_id(ctx.settings.config.bots.desk)

    async def run(self) -> MendResult:
        """Raises ChannelsNotMended (after trying all) when any gone channel was not replaced
        or any channel could not be checked: the run counts as failed and is repeated."""
        async with self._db.reading() as conn:  # before asking: a channel made meanwhile is kept
            channels = await desk_store.patients_channels(conn)
        if not channels:
            return MendResult(0, 0, 0, 0, 0)
        checked = await desk_rooms.gone_rooms(
            self._hs, self._bot, self._admin_token, [RoomID(c.room_id) for c in channels]
        )
        replaced = kept = failed = 0
        for channel in channels:
            if RoomID(channel.room_id) not in checked.gone:
                continue
            try:
                if await self._has_tickets(channel):
                    kept += 1
                else:
                    replaced += await self.replace(channel)
            except (MatrixError, HomeserverUnreachable):
                failed += 1
                log.exception("insurer channel %s of %s not replaced; tried again",
                              channel.room_id, channel.patient_id)  # fmt: skip
        result = MendResult(len(channels), replaced, kept, failed, len(checked.undecided))
        if replaced:
            log.info("replaced %d insurer channels the homeserver no longer had", replaced)
        if failed or checked.undecided:
            raise ChannelsNotMended(
                f"not all insurer channels checked and mended: {result.as_json()}"
            )
        return result

    async def _has_tickets(self, channel: desk_store.ChannelRow) -> bool:
        async with self._db.reading() as conn:
            used = await desk_store.has_tickets(conn, channel.room_id)
        if used:
            log.error("insurer channel %s of %s is gone from the homeserver but has tickets; "
                      "not replaced", channel.room_id, channel.patient_id)  # fmt: skip
        return used

    async def replace(self, channel: desk_store.ChannelRow) -> int:
        """A new room for the channel, the row moved to it only while it still names the old
        one; otherwise (changed meanwhile) the patient's invite is taken back and the bot
        leaves the new room. 1 when replaced."""
        cfg = self._settings.config
        patient = UserID(channel.patient_id)
        lifetime = None if channel.hold else duration_ms(cfg.desk.purge_after)  # held: no purge
        room = await desk_rooms.create_channel(
            self._hs, self._bot, patient, cfg.desk_name, lifetime
        )
        async with self._db.transaction() as conn:
            replaced = await desk_store.update_channel(
                conn, channel.patient_id, only_room=channel.room_id, room_id=room,
                greeted_at=None, pending_topic=None, menu_event_id=None,
            )  # fmt: skip
        if not replaced:  # changed meanwhile (coverage end, another process): no second invite
            log.warning("insurer channel of %s changed meanwhile; new room %s given up",
                        channel.patient_id, room)  # fmt: skip
            await desk_rooms.remove_user(self._hs, self._bot, room, patient, "Ersetzt / replaced")
            await desk_rooms.leave(self._hs, self._bot, room)
            return 0
        log.warning("insurer channel %s of %s was gone from the homeserver; %s replaces it",
                    channel.room_id, channel.patient_id, room)  # fmt: skip
        return 1
