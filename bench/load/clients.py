"""One client process of the load test: its share of patient–practice pairs as real E2E clients
(matrix-nio + vodozemac). Each pair opens an encrypted chat (the patient creates it and invites
the practice, the practice accepts), then both sides take turns sending for the run's duration;
every receiver decrypts and notes the send->decrypt latency; every tenth message its sender
deletes again. Once in the window each patient also sends a chat request to another pair's
practice (a new encrypted room; every practice accepts what it is sent: request -> both joined
is timed) and, where the deployment has an insurer channel, opens a ticket there (topic, then
the concern: concern sent -> the desk bot's confirmation decrypted is timed). Prints one JSON
line of figures at the end."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from nio import RedactedEvent, RoomRedactResponse

from tests.e2e_client import E2EUser

MARK = "LOADTEST "
TOPIC = "Krankengeld"  # a topic of the default desk configuration


class TimedUser(E2EUser):
    """An E2E client that notes, for each load message it decrypts, how long it took."""

    latencies: list[float]
    received = 0  # load messages of the other side decrypted (or arrived deleted, below)
    seen: set[str]  # their event ids
    seen_deleted: set[str]  # deleted by their sender before our sync fetched them

    def __init__(self, homeserver: str, user_id: str, password: str, store: Path) -> None:
        super().__init__(homeserver, user_id, password, store)
        self.seen, self.seen_deleted = set(), set()
        self.client.add_event_callback(self._on_redacted, RedactedEvent)  # type: ignore[arg-type]

    async def _on_redacted(self, _room: Any, event: RedactedEvent) -> None:
        """Under load a message's deletion can reach Synapse before the other side's sync
        does: that side gets it as deleted (no content, as it should), not as lost."""
        if event.sender != self.user_id and event.event_id not in self.seen:
            self.received += 1
            self.seen_deleted.add(event.event_id)

    async def _on_message(self, room: Any, event: Any) -> None:
        body = str(getattr(event, "body", ""))
        if body.startswith(MARK):
            if event.sender == self.user_id:
                return  # our own message, back through sync
            sent_at = float(body.split()[1])
            self.latencies.append(time.time() - sent_at)
            self.received += 1  # waiters are woken after each sync
            self.seen.add(event.event_id)
            return
        await super()._on_message(room, event)


async def _accept_requests(practice: TimedUser, known: int, stats: dict[str, Any]) -> None:
    """Join every chat request that arrives from now on (runs until cancelled)."""
    while True:
        await practice.wait_for(lambda n=known: len(practice.invites) > n, timeout=3600)  # type: ignore[misc]
        room = practice.invites[known]
        known += 1
        try:
            await practice.join(room)
        except Exception as error:
            stats["errors"].append(f"accept request: {error!r}"[:300])


async def _request(patient: TimedUser, spec: dict[str, Any], stats: dict[str, Any]) -> None:
    """A chat request to another pair's practice: invite -> both joined, timed."""
    await asyncio.sleep(max(0.0, spec["request_at"] - time.time()))
    started = time.time()
    try:
        room = await patient.create_encrypted_room(invite=[spec["other_practice"]])
        await patient.wait_for(
            lambda: room in patient.client.rooms and len(patient.client.rooms[room].users) >= 2,
            timeout=120,
        )
        stats["request_latencies"].append(time.time() - started)
    except Exception as error:
        stats["errors"].append(f"chat request: {error!r}"[:300])


async def _ticket(patient: TimedUser, spec: dict[str, Any], stats: dict[str, Any]) -> None:
    """A concern in the insurer channel: topic, text -> the desk bot's confirmation, timed."""
    channel = spec["patient"]["channel"]
    await asyncio.sleep(max(0.0, spec["ticket_at"] - time.time()))
    try:
        seen = len(patient.messages)
        await patient.send_text(channel, TOPIC)
        await patient.wait_for(lambda: _after(patient, seen, channel, "Schreiben Sie jetzt"), 120)
        seen = len(patient.messages)
        started = time.time()
        await patient.send_text(channel, "Mein Krankengeld für November fehlt noch.")
        await patient.wait_for(lambda: _after(patient, seen, channel, "eingegangen"), 120)
        stats["ticket_latencies"].append(time.time() - started)
    except Exception as error:
        stats["errors"].append(f"ticket: {error!r}"[:300])


def _after(user: TimedUser, seen: int, room: str, contains: str) -> bool:
    return any(m.room_id == room and contains in m.body for m in user.messages[seen:])


async def _channel(patient: TimedUser, channel: str) -> None:
    """Into the insurer channel, as a patient does once: join, read the greeting."""
    await patient.wait_for(lambda: channel in patient.invites or channel in patient.client.rooms)
    if channel not in patient.client.rooms:
        await patient.join(channel)
    await patient.wait_for_message(channel, "Willkommen", timeout=120)


async def _pair(spec: dict[str, Any], folder: Path, stats: dict[str, Any]) -> None:
    hs, start_at, end_at = spec["hs_url"], spec["start_at"], spec["end_at"]
    patient = TimedUser(hs, spec["patient"]["user_id"], spec["patient"]["password"],
                        folder / "patient")  # fmt: skip
    practice = TimedUser(hs, spec["practice"]["user_id"], spec["practice"]["password"],
                         folder / "practice")  # fmt: skip
    patient.latencies, practice.latencies = stats["latencies"], stats["latencies"]
    await patient.login()
    await practice.login()
    try:
        room = await patient.create_encrypted_room(invite=[practice.user_id])
        await practice.wait_for(lambda: room in practice.invites, timeout=120)
        await practice.join(room)
        await patient.wait_for(
            lambda: len(patient.client.rooms[room].users) >= 2 if room in patient.client.rooms
            else False, timeout=120,
        )  # fmt: skip
        if "channel" in spec["patient"]:
            await _channel(patient, spec["patient"]["channel"])
        stats["ready"] += 1
        await asyncio.sleep(max(0.0, start_at - time.time()))
        side = [asyncio.ensure_future(_accept_requests(practice, len(practice.invites), stats)),
                asyncio.ensure_future(_request(patient, spec, stats)) if spec["requests"]
                else asyncio.ensure_future(asyncio.sleep(0))]  # fmt: skip
        if "channel" in spec["patient"] and spec["tickets"]:
            side.append(asyncio.ensure_future(_ticket(patient, spec, stats)))
        turn = 0
        sent = {patient.user_id: 0, practice.user_id: 0}
        sent_ids: dict[str, list[str]] = {patient.user_id: [], practice.user_id: []}
        while time.time() < end_at:
            sender = (patient, practice)[turn % 2]
            try:
                event_id = await sender.send_text(room, f"{MARK}{time.time():.6f} " + "x" * 80)
                stats["sent"] += 1
                sent[sender.user_id] += 1
                sent_ids[sender.user_id].append(event_id)
                if turn % 10 == 9:
                    redacted = await sender.client.room_redact(room, event_id)
                    if isinstance(redacted, RoomRedactResponse):
                        stats["deleted"] += 1
                    else:
                        stats["errors"].append(f"redact: {redacted}")
            except Exception as error:  # every failure counts; none stops the run
                stats["errors"].append(f"send: {error!r}"[:300])
            turn += 1
            await asyncio.sleep(spec["interval_s"])
        # the last messages' way to the other side (a message still missing after a minute
        # counts as an error: sent but not received)
        with contextlib.suppress(TimeoutError):
            await patient.wait_for(lambda: patient.received >= sent[practice.user_id], 60)
            await practice.wait_for(lambda: practice.received >= sent[patient.user_id], 60)
        await asyncio.wait(side[1:], timeout=60)  # a request or ticket still under way
        for task in side:
            task.cancel()
        for receiver, other in ((patient, practice), (practice, patient)):  # to look them up
            stats["missing"] += [
                f"{room} {event_id} from {other.user_id}"
                for event_id in sent_ids[other.user_id]
                if event_id not in receiver.seen and event_id not in receiver.seen_deleted
            ]
            stats["deleted_unseen"] += len(receiver.seen_deleted)
        stats["undecryptable"] += len(patient.undecryptable) + len(practice.undecryptable)
    finally:
        await patient.close()
        await practice.close()


async def main() -> None:
    specs: list[dict[str, Any]] = json.loads(sys.stdin.read())
    stats: dict[str, Any] = {"latencies": [], "sent": 0, "deleted": 0, "errors": [],
                             "undecryptable": 0, "ready": 0, "request_latencies": [],
                             "ticket_latencies": [], "missing": [],
                             "deleted_unseen": 0}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="load-clients-") as folder:
        results = await asyncio.gather(
            *(_pair(spec, Path(folder) / str(n), stats) for n, spec in enumerate(specs)),
            return_exceptions=True,
        )
    stats["errors"] += [f"pair: {r!r}"[:300] for r in results if isinstance(r, BaseException)]
    print(json.dumps(stats))


if __name__ == "__main__":
    asyncio.run(main())
