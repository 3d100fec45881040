"""Leave prompts: the daily job that offers patients to leave stale care chats, and the
patient's answer.

The job works patient by patient; each patient's prompts and their one notice are written in
one transaction, so a crash (or a second run) neither loses nor repeats a prompt: a prompted
chat is not due again until a full threshold period has passed. Numbers shown to a patient
stay the same while a prompt is open, so an answer to an older notice still means that chat.

Only timestamps, room ids and membership are used — never message content. Nothing is removed
without the patient's answer; on "verlassen" the appservice leaves and forgets the room as the
patient (only on that explicit consent). The practice keeps the chat.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from itertools import groupby
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.accounts.roles import name_of
from messenger.bridge.errors import MatrixError
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.db.database import Database
from messenger.db.stores import chat_requests as notices_store
from messenger.db.stores import jobs as jobs_store
from messenger.db.stores import leave_prompts as store
from messenger.db.stores.leave_prompts import DueChat, PromptRow
from messenger.ids import RoomID, UserID
from messenger.retention.calendar import local_date, months_before

log = logging.getLogger(__name__)
JOB = "leave_prompts"


@dataclass
class PromptRun:
    patients: int = 0
    chats: int = 0
    selection_ms: float = 0.0

    def as_json(self) -> dict[str, int | float]:
        return {"patients": self.patients, "chats": self.chats,
                "selection_ms": round(self.selection_ms, 1)}  # fmt: skip


@dataclass(frozen=True)
class LeaveOutcome:
    left: list[str] = field(default_factory=list)  # practice names
    failed: list[str] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)  # numbers without an open prompt


class LeavePrompts:
    def __init__(
        self, db: Database, hs: HomeserverClient, admin_token: Callable[[], Awaitable[str]],
        default_months: int,
    ) -> None:  # fmt: skip
        self._db = db
        self._hs = hs
        self._admin_token = admin_token
        self._default = default_months
        # test hook: called after each patient's prompts are committed (a crash mid-job)
        self.after_patient: Callable[[str], None] | None = None

    @staticmethod
    async def _names(
        conn: AsyncConnection, room_ids: list[str], known: dict[str, str] | None = None
    ) -> dict[str, str]:
        """What each care chat is called for the patient: its practice's name (looked up once
        per practice; `known` carries names across calls), else the room id."""
        known = {} if known is None else known
        practices = await store.practices_of(conn, room_ids)
        for practice in set(practices.values()) - set(known):
            known[practice] = await name_of(conn, practice)
        return {room: known[practices[room]] if room in practices else room for room in room_ids}

    async def select(self, now: int) -> list[tuple[int, DueChat]]:
        """Every due chat with the threshold (months) it is due under."""
        async with self._db.reading() as conn:
            in_use = set(await store.thresholds_in_use(conn))
            due: list[tuple[int, DueChat]] = []
            for months in sorted(in_use | {self._default}):
                cutoff = months_before(now, months)
                chats = await store.due_chats(conn, months, cutoff, months == self._default)
                due += [(months, chat) for chat in chats]
        return due

    async def run(self, now: int) -> PromptRun:
        started = time.perf_counter()
        due = await self.select(now)
        result = PromptRun(selection_ms=(time.perf_counter() - started) * 1000)
        due.sort(key=lambda item: (item[1].patient_id, item[1].last_message_at or 0))
        names: dict[str, str] = {}  # practice -> name, for the whole run
        for patient, items in groupby(due, key=lambda item: item[1].patient_id):
            chats = list(items)
            await self._prompt(patient, chats[0][0], [chat for _m, chat in chats], now, names)
            result.patients += 1
            result.chats += len(chats)
            if self.after_patient is not None:
                self.after_patient(patient)
        return result

    async def _prompt(
        self, patient: str, months: int, chats: list[DueChat], now: int, names: dict[str, str]
    ) -> None:
        async with self._db.transaction() as conn:
            known = await store.prompts_of(conn, patient)
            chat_names = await self._names(conn, [chat.room_id for chat in chats], names)
            taken = {p.number for p in known.values() if p.answer is None}
            lines = []
            for chat in chats:
                earlier = known.get(chat.room_id)
                if earlier is not None and earlier.answer is None:
                    number = earlier.number
                else:
                    number = next(n for n in range(1, len(taken) + 2) if n not in taken)
                    taken.add(number)
                await store.record_prompt(
                    conn, patient, chat.room_id, number, now, existing=earlier is not None
                )
                last = local_date(chat.last_message_at) if chat.last_message_at else "–"
                lines.append((number, f"{number}. {chat_names[chat.room_id]} ({last})"))
            listing = "\n".join(line for _n, line in sorted(lines))
            await notices_store.add_notice(
                conn, patient, "leave_prompt", {"months": str(months), "chats": listing}, now
            )
            await jobs_store.audit(conn, JOB, None, "chats_offered", len(chats), now)

    # --- the patient's answer ----------------------------------------------------------------
    async def open_prompts(self, patient: UserID) -> list[PromptRow]:
        async with self._db.reading() as conn:
            return await store.open_prompts(conn, patient)

    async def keep(self, patient: UserID, numbers: list[int] | None, now: int) -> LeaveOutcome:
        chosen, unknown = await self._chosen(patient, numbers)
        async with self._db.transaction() as conn:
            names = await self._names(conn, [p.room_id for p in chosen])
            for prompt in chosen:
                await store.answer(conn, patient, prompt.room_id, store.KEPT, now)
        return LeaveOutcome(left=list(names.values()), unknown=unknown)

    async def leave(self, patient: UserID, numbers: list[int] | None, now: int) -> LeaveOutcome:
        """Leave and forget the chosen rooms as the patient; each one that worked is recorded
        (and audited) at once, so a failure halfway leaves a true record."""
        chosen, unknown = await self._chosen(patient, numbers)
        left: list[str] = []
        failed: list[str] = []
        if not chosen:
            return LeaveOutcome(unknown=unknown)
        async with self._db.reading() as conn:
            names = await self._names(conn, [p.room_id for p in chosen])
        async with self._hs.acting_as(await self._admin_token(), patient) as token:
            for prompt in chosen:
                try:
                    await self._leave_and_forget(token, RoomID(prompt.room_id))
                except MatrixError as error:
                    log.warning("leaving %s for %s failed: %s", prompt.room_id, patient, error)
                    failed.append(names[prompt.room_id])
                    continue
                async with self._db.transaction() as conn:
                    await store.answer(conn, patient, prompt.room_id, store.LEFT, now)
                    await jobs_store.audit(conn, JOB, prompt.room_id, "patient_left", 1, now)
                left.append(names[prompt.room_id])
        log.info("%s left %d stale chats on request", patient, len(left))
        return LeaveOutcome(left=left, failed=failed, unknown=unknown)

    async def _leave_and_forget(self, token: str, room: RoomID) -> None:
        base = f"/_matrix/client/v3/rooms/{quote(room)}"
        try:
            await self._hs.request("POST", f"{base}/leave", body={}, token=token)
        except MatrixError as error:
            if error.status != 403:  # 403: not in the room any more (left meanwhile)
                raise
        await self._hs.request("POST", f"{base}/forget", body={}, token=token)

    async def _chosen(
        self, patient: UserID, numbers: list[int] | None
    ) -> tuple[list[PromptRow], list[int]]:
        prompts = await self.open_prompts(patient)
        if numbers is None:
            return prompts, []
        by_number = {p.number: p for p in prompts}
        return (
            [by_number[n] for n in dict.fromkeys(numbers) if n in by_number],
            [n for n in numbers if n not in by_number],
        )
