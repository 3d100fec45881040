"""What a crash of Synapse lost on the way to the appservice is sent again when `messenger up`
starts it anew.

Synapse keeps the events queued behind a transaction in flight in memory only and notes them
as handed over at once: killed, it never sends them. The test holds a transaction in flight
(the appservice stopped with SIGSTOP), lets the practice's join queue behind it, kills Synapse
and lets the supervisor start it again; the join must still reach the chat-request tracker."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from messenger.db.database import Database
from messenger.db.stores import chat_requests, registry
from messenger.homeserver.replay import REMEMBERED_MS, replay_start, rewind_sqlite
from tests.cli.test_up import _run_up, _stop
from tests.system import init_data_dir, json_request, messenger_cli, wait_http

MINUTE = 60_000


def test_the_replay_starts_before_the_events_of_the_last_window() -> None:
    at = 1_000_000_000_000
    recent = [(100, at), (99, at - 1_000), (98, at - 119_000), (97, at - 121_000), (96, None)]
    assert replay_start(100, recent, 2 * MINUTE, at) == 97  # 98 is sent again, 97 not
    assert replay_start(100, [], 2 * MINUTE, at) == 100  # nothing known: nothing replayed
    assert replay_start(100, [(100, None)], 2 * MINUTE, at) == 100
    assert replay_start(5, [(5, at), (4, at)], 2 * MINUTE, at) == 3
    assert replay_start(100, [(-3, at)], 2 * MINUTE, at) == 100  # backfilled: not replayed
    # stopped for longer than the appservice remembers events: they would be taken twice
    assert replay_start(100, recent, 2 * MINUTE, at + REMEMBERED_MS) == 97
    assert replay_start(100, recent, 2 * MINUTE, at + REMEMBERED_MS + 1) == 100


def _synapse_tables(database: Path, received_at: int) -> None:
    """Synapse's tables as it leaves them when killed with transactions in flight: one of ours,
    one of another registration (the test suite's own url-less one was left behind once, and
    kept "no transaction left stored" from ever becoming true), and one of an appservice
    Synapse had marked down, which its recoverer retries at start and so must keep."""
    with contextlib.closing(sqlite3.connect(database)) as conn, conn:
        conn.executescript(
            "CREATE TABLE application_services_txns (as_id TEXT, txn_id BIGINT, event_ids TEXT);"
            "CREATE TABLE application_services_state (as_id TEXT, state TEXT, last_txn BIGINT);"
            "CREATE TABLE appservice_stream_position (lock CHAR, stream_ordering BIGINT);"
            "CREATE TABLE events (stream_ordering BIGINT, received_ts BIGINT);"
            "INSERT INTO application_services_txns VALUES ('messenger', 7, '[]'),"
            " ('other', 8, '[]'), ('resting', 3, '[]');"
            "INSERT INTO application_services_state VALUES ('messenger', 'up', 6),"
            " ('resting', 'down', 2);"
            "INSERT INTO appservice_stream_position VALUES ('X', 10);"
        )
        events = [(n, received_at) for n in range(1, 11)]
        conn.executemany("INSERT INTO events VALUES (?, ?)", events)


def _stored(database: Path) -> tuple[list[tuple[str, int]], int]:
    with contextlib.closing(sqlite3.connect(database)) as conn:
        kept = conn.execute("SELECT as_id, txn_id FROM application_services_txns").fetchall()
        position = conn.execute("SELECT stream_ordering FROM appservice_stream_position")
        return sorted(kept), int(position.fetchone()[0])


def test_with_a_replay_what_was_in_flight_is_dropped_for_every_appservice_not_down(
    tmp_path: Path,
) -> None:
    recent = tmp_path / "recent.db"
    _synapse_tables(recent, int(time.time() * 1000) - MINUTE)
    replay = rewind_sqlite(recent)
    assert replay is not None and (replay.handed_over, replay.start) == (10, 0)
    assert _stored(recent) == ([("resting", 3)], 0)
    # stopped for longer than the appservice remembers: no replay, so nothing is dropped
    old = tmp_path / "old.db"
    _synapse_tables(old, int(time.time() * 1000) - REMEMBERED_MS - MINUTE)
    replay = rewind_sqlite(old)
    assert replay is not None and replay.events == 0
    assert _stored(old) == ([("messenger", 7), ("other", 8), ("resting", 3)], 10)


async def _login(url: str, account: dict[str, str]) -> str:
    status, body = await json_request(
        "POST", f"{url}/_matrix/client/v3/login", "",
        {"type": "m.login.password", "identifier": {"type": "m.id.user",
         "user": account["user_id"]}, "password": account["password"]},
    )  # fmt: skip
    assert status == 200, body
    return str(body["access_token"])


async def _send(url: str, token: str, room: str) -> str:
    """An event in the room (its content does not matter here)."""
    content = {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "x", "session_id": "s",
               "sender_key": "k", "device_id": "D"}  # fmt: skip
    path = f"/_matrix/client/v3/rooms/{quote(room)}/send/m.room.encrypted/{uuid.uuid4().hex}"
    status, body = await json_request("PUT", url + path, token, content)
    assert status == 200, body
    return str(body["event_id"])


# one row of a query (with `?` placeholders) on Synapse's own database, whichever it is
SynapseRow = Callable[[str, tuple[str, ...]], tuple[Any, ...] | None]
POSITION = "SELECT stream_ordering FROM appservice_stream_position"
EVENT = "SELECT stream_ordering FROM events WHERE event_id = ?"
JOIN = (
    "SELECT e.stream_ordering FROM current_state_events AS c JOIN events AS e "
    "ON e.event_id = c.event_id WHERE c.room_id = ? AND c.type = 'm.room.member' "
    "AND c.state_key = ? AND c.membership = 'join'"
)


def _handed_over(row: SynapseRow, query: str, *params: str) -> bool:
    """Synapse noted the event as handed over to the appservice (queued, maybe not sent)."""
    ordering = row(query, params)
    position = row(POSITION, ())
    return ordering is not None and position is not None and position[0] >= ordering[0]


def sqlite_row(database: Path) -> SynapseRow:
    def row(query: str, params: tuple[str, ...]) -> tuple[Any, ...] | None:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
            found: tuple[Any, ...] | None = conn.execute(query, params).fetchone()
        return found

    return row


async def _until(check: object, what: str, timeout: float = 60) -> None:
    for _ in range(int(timeout / 0.25)):
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"not in time: {what}")


async def lost_join_is_replayed(
    run_dir: Path, url: str, db: Database, patient: dict[str, str], practice: dict[str, str],
    appservices: list[str], notifier: str, row: SynapseRow,
) -> None:  # fmt: skip
    """The patient asks the practice; with the appservice stopped (a transaction in flight)
    the practice joins; Synapse's notifying process is killed once it noted the join as handed
    over; the supervisor starts it again. The join must reach the chat-request tracker."""
    patient_token = await _login(url, patient)
    practice_token = await _login(url, practice)
    status, created = await json_request(
        "POST", f"{url}/_matrix/client/v3/createRoom", patient_token,
        {"invite": [practice["user_id"]], "is_direct": True, "initial_state": [
            {"type": "m.room.encryption", "state_key": "",
             "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]},
    )  # fmt: skip
    assert status == 200, created
    room = str(created["room_id"])
    await _until(lambda: _in_state(db, room, "pending"), "the request is pending")

    children = json.loads((run_dir / "up.json").read_text())["children"]
    for name in appservices:  # the next transaction stays in flight
        os.kill(children[name], signal.SIGSTOP)
    try:
        message = await _send(url, patient_token, room)

        async def message_sent() -> bool:  # so the join cannot travel with it
            return _handed_over(row, EVENT, message)

        await _until(message_sent, "Synapse handed the message over")
        path = f"{url}/_matrix/client/v3/rooms/{quote(room)}/join"
        status, joined = await json_request("POST", path, practice_token, {})
        assert status == 200, joined

        async def join_queued() -> bool:
            return _handed_over(row, JOIN, room, practice["user_id"])

        await _until(join_queued, "Synapse handed the join over")
        os.kill(children[notifier], signal.SIGKILL)
    finally:
        for name in appservices:
            os.kill(children[name], signal.SIGCONT)
    await asyncio.sleep(2)  # whatever the appservice still had of the killed transaction
    assert await _in_state(db, room, "pending")  # the join did not arrive: it was lost

    async def restarted() -> bool:
        now = json.loads((run_dir / "up.json").read_text())["children"]
        return bool(now[notifier] != children[notifier])

    await _until(restarted, "the supervisor started Synapse's process again")
    await wait_http(url + "/health")
    await _send(url, patient_token, room)  # the next event starts Synapse's sender
    await _until(lambda: _in_state(db, room, "accepted"), "the lost join reached the tracker")

    async def none_stored() -> bool:  # the killed transaction is not kept for a later outage
        stored = row("SELECT count(*) FROM application_services_txns", ())
        return stored is not None and stored[0] == 0

    await _until(none_stored, "no transaction left stored at Synapse")
    await asyncio.sleep(2)  # a duplicate delivery would land now
    async with db.reading() as conn:
        row = await registry.get_room(conn, room)
    assert row is not None and row.message_count == 2  # each of the two events taken once


async def test_a_join_queued_when_synapse_is_killed_reaches_the_appservice_after_restart(
    tmp_path: Path,
) -> None:
    settings = init_data_dir(tmp_path)
    process = await _run_up(tmp_path)
    db = Database(settings.database_url)
    try:
        cli = ("--data-dir", str(tmp_path), "--json")
        patient = json.loads(messenger_cli(
            "accounts", "add", "--role", "patient", "--display-name", "Rita Replay", *cli
        ).stdout)  # fmt: skip
        practice = json.loads(messenger_cli(
            "accounts", "add", "--role", "practice", "--display-name", "Praxis Replay", *cli
        ).stdout)  # fmt: skip
        listing = tmp_path / "practice.csv"
        listing.write_text(
            "id,matrix_id,name,specialty,street,postcode,city,visible,active\n"
            f"p1,{practice['user_id']},Praxis Replay,Allgemeinmedizin,Hauptstr. 1,10115,Berlin,"
            "true,true\n",
            encoding="utf-8",
        )
        messenger_cli("directory", "import", str(listing), "--source", "replay", *cli)
        synapse_db = settings.synapse_sqlite
        assert synapse_db is not None
        await lost_join_is_replayed(
            settings.run_dir, settings.config.homeserver.client_url, db, patient, practice,
            ["appservice"], "synapse", sqlite_row(synapse_db),
        )  # fmt: skip
        logged = (settings.log_dir / "up.log").read_text(encoding="utf-8")
        assert "sends the appservice again" in logged
    finally:
        _stop(process)
        await db.close()


async def _in_state(db: Database, room: str, state: str) -> bool:
    async with db.reading() as conn:
        row = await chat_requests.by_room(conn, room)
    return row is not None and row.state == state
