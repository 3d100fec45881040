"""The leave-prompt job on the database (SQLite and PostgreSQL): which chats are due, one notice
per patient, no repeats, "behalten" holds off a full period, a crash halfway loses and repeats
nothing. Room registry rows are written as the registry handler writes them from envelopes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from messenger.bridge.homeserver_client import HomeserverClient
from messenger.db.database import Database
from messenger.db.schema import notice_outbox
from messenger.db.stores import leave_prompts as store
from messenger.db.stores import registry
from messenger.ids import UserID
from messenger.retention.calendar import BERLIN
from messenger.retention.leave_prompts import LeavePrompts

DAY = 86_400_000
NOW = int(dt.datetime(2026, 11, 22, 9, tzinfo=BERLIN).timestamp() * 1000)


async def _no_token() -> str:
    raise AssertionError("the prompt job needs no homeserver")


async def care_chat(db: Database, room: str, patient: str, practice: str, last: int | None,
                    *, patient_membership: str = "join", kind: str = "care") -> None:  # fmt: skip
    async with db.transaction() as conn:
        await registry.record_creation(conn, room, kind, patient, (last or NOW) - 10 * DAY)
        await registry.record_membership(conn, room, patient, "patient", patient_membership, 0)
        await registry.record_membership(conn, room, practice, "practice", "join", 0)
        if last is not None:
            await registry.add_room_activity(conn, [(room, 3, last)])


async def notices(db: Database) -> dict[str, list[dict[str, str]]]:
    async with db.reading() as conn:
        rows = (await conn.execute(sa.select(notice_outbox).order_by(notice_outbox.c.id))).all()
    found: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        if row.text_key == "leave_prompt":
            found.setdefault(row.user_id, []).append(json.loads(row.args))
    return found


@pytest.fixture
async def prompts(fresh_db: Database) -> LeavePrompts:
    await fresh_db.migrate()
    hs = HomeserverClient("http://127.0.0.1:9", "unused", "unused")
    return LeavePrompts(fresh_db, hs, _no_token, default_months=6)


async def test_exactly_the_chats_past_each_patients_threshold(
    fresh_db: Database, prompts: LeavePrompts
) -> None:
    erika, max_, off = "@erika:x", "@max:x", "@off:x"
    await care_chat(fresh_db, "!old:x", erika, "@weber:x", NOW - 200 * DAY)
    await care_chat(fresh_db, "!new:x", erika, "@roth:x", NOW - 20 * DAY)
    await care_chat(fresh_db, "!quiet:x", erika, "@kaya:x", None)  # created 10 days ago
    await care_chat(
        fresh_db, "!left:x", erika, "@lang:x", NOW - 300 * DAY, patient_membership="leave"
    )
    await care_chat(fresh_db, "!service:x", erika, "@bot:x", NOW - 300 * DAY, kind="service")
    await care_chat(fresh_db, "!four:x", max_, "@weber:x", NOW - 120 * DAY)  # 4 months
    await care_chat(fresh_db, "!two:x", max_, "@roth:x", NOW - 62 * DAY)  # 2 months
    await care_chat(fresh_db, "!ancient:x", off, "@weber:x", NOW - 900 * DAY)
    async with fresh_db.transaction() as conn:
        await store.set_threshold(conn, max_, 3, NOW)
        await store.set_threshold(conn, off, None, NOW)

    due = await prompts.select(NOW)
    assert sorted((chat.patient_id, chat.room_id) for _m, chat in due) == [
        (erika, "!old:x"), (max_, "!four:x"),
    ]  # fmt: skip
    run = await prompts.run(NOW)
    assert (run.patients, run.chats) == (2, 2)
    sent = await notices(fresh_db)
    assert set(sent) == {erika, max_}
    assert sent[erika][0]["months"] == "6" and sent[erika][0]["chats"].startswith("1. @weber:x (")
    assert sent[max_][0]["months"] == "3"

    again = await prompts.run(NOW + DAY)  # the next day: nothing repeats
    assert (again.patients, again.chats) == (0, 0)
    assert sum(len(v) for v in (await notices(fresh_db)).values()) == 2


async def test_kept_chat_is_not_offered_again_before_another_full_period(
    fresh_db: Database, prompts: LeavePrompts
) -> None:
    erika = "@erika:x"
    await care_chat(fresh_db, "!a:x", erika, "@weber:x", NOW - 200 * DAY)
    await care_chat(fresh_db, "!b:x", erika, "@roth:x", NOW - 250 * DAY)
    await prompts.run(NOW)
    numbers = {p.room_id: p.number for p in await prompts.open_prompts(UserID(erika))}
    assert sorted(numbers.values()) == [1, 2]
    kept = await prompts.keep(UserID(erika), [numbers["!a:x"]], NOW + DAY)
    assert kept.left == ["@weber:x"] and kept.unknown == []
    assert [p.room_id for p in await prompts.open_prompts(UserID(erika))] == ["!b:x"]
    assert (await prompts.keep(UserID(erika), [7], NOW)).unknown == [7]

    assert (await prompts.run(NOW + 150 * DAY)).chats == 0  # within six months of the answer
    later = await prompts.run(NOW + 190 * DAY)  # a full period after answer and prompt
    assert sorted(later.as_json().items())[0] == ("chats", 2)
    # the unanswered one keeps its number; the kept one gets the next free one
    again = {p.room_id: p.number for p in await prompts.open_prompts(UserID(erika))}
    assert again["!b:x"] == numbers["!b:x"] and again["!a:x"] != again["!b:x"]


async def test_a_crash_halfway_neither_loses_nor_repeats_a_prompt(
    fresh_db: Database, prompts: LeavePrompts
) -> None:
    patients = [f"@p{i}:x" for i in range(5)]
    for i, patient in enumerate(patients):
        await care_chat(fresh_db, f"!r{i}:x", patient, "@weber:x", NOW - 200 * DAY)
        await care_chat(fresh_db, f"!s{i}:x", patient, "@roth:x", NOW - 300 * DAY)
    done: list[str] = []

    def crash_after_two(patient: str) -> None:
        done.append(patient)
        if len(done) == 2:
            raise RuntimeError("process killed")

    prompts.after_patient = crash_after_two
    with pytest.raises(RuntimeError):
        await prompts.run(NOW)
    prompts.after_patient = None
    resumed = await prompts.run(NOW + 60_000)  # "restarted" a minute later
    assert resumed.patients == 3
    sent = await notices(fresh_db)
    assert sorted(sent) == patients and all(len(v) == 1 for v in sent.values())
    assert all(v[0]["chats"].count("\n") == 1 for v in sent.values())  # both chats, one notice
