"""Chat requests end to end (real Synapse, real E2E clients): from any client and through the
service bot; accepted, declined, withdrawn, expired; limits; access codes."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from typing import Any
from urllib.parse import quote

from messenger.db.schema import chat_requests
from messenger.db.stores import chat_requests as store
from messenger.db.stores import registry
from tests.e2e_client import E2EUser
from tests.system import System, admin_token, json_request


async def person(system: System, e2e_user: Any, account: dict[str, Any]) -> E2EUser:
    user: E2EUser = await e2e_user(account)
    await user.open_service_room(account["service_room_id"])
    user.service_room = account["service_room_id"]  # type: ignore[attr-defined]
    return user


async def new_invite(user: E2EUser) -> str:
    """The first invitation other than the service room."""
    room: str = await user.wait_for(
        lambda: next((r for r in user.invites if r != user.service_room), None)  # type: ignore[attr-defined]
    )
    return room


async def request_state(system: System, room: str, wanted: str) -> store.ChatRequestRow:
    async def reached() -> store.ChatRequestRow:
        while True:
            async with system.db.reading() as conn:
                row = await store.by_room(conn, room)
            if row is not None and row.state == wanted:
                return row
            await asyncio.sleep(0.2)

    return await asyncio.wait_for(reached(), 30)


async def membership(system: System, room: str, user: str, wanted: str) -> None:
    async def reached() -> None:
        while True:
            async with system.db.reading() as conn:
                members = {m.user_id: m.membership for m in await registry.members(conn, room)}
            if members.get(user) == wanted:
                return
            await asyncio.sleep(0.2)

    await asyncio.wait_for(reached(), 30)


async def test_request_from_any_client_accepted_then_encrypted_chat(
    system: System, e2e_user: Any
) -> None:
    practice = await person(system, e2e_user, system.add_listed_practice("Praxis Dr. Weber"))
    patient = await person(system, e2e_user, system.add_account("patient", "Erika Muster"))

    room = await patient.create_encrypted_room(invite=[practice.user_id])
    sent = await patient.wait_for_message(patient.service_room, "ist gesendet")
    assert "Praxis Dr. Weber" in sent.body
    number = re.search(r"Nr\. (\d+)", sent.body).group(1)  # type: ignore[union-attr]
    await practice.wait_for_message(practice.service_room, f"Neue Chat-Anfrage Nr. {number}")
    assert (await request_state(system, room, "pending")).practice_id == practice.user_id
    await practice.send_text(practice.service_room, "anfragen")
    listing = await practice.wait_for_message(practice.service_room, "Offene Chat-Anfragen")
    assert f"Nr. {number}: Erika Muster — offen" in listing.body

    await practice.wait_for(lambda: room in practice.invites)
    await practice.join(room)
    accepted = await patient.wait_for_message(patient.service_room, "hat Ihre Anfrage")
    assert "angenommen" in accepted.body and "112" in accepted.body and "116117" in accepted.body
    started = await practice.wait_for_message(practice.service_room, "hat begonnen")
    assert "112" in started.body
    await request_state(system, room, "accepted")
    status, topic = await patient.api("GET", f"/_matrix/client/v3/rooms/{room}/state/m.room.topic")
    assert status == 200 and "116117" in topic["topic"]

    canary = f"CANARY-REQUEST-{uuid.uuid4().hex}"
    await patient.wait_for(lambda: practice.user_id not in patient.client.rooms[room].invited_users)
    await patient.send_text(room, canary)
    first = await practice.wait_for_message(room, canary, sender=patient.user_id)
    assert first.body == canary
    async with system.db.reading() as conn:
        row = await registry.get_room(conn, room)
    assert row is not None and row.kind == "care"
    assert system.files_containing([canary]) == []


async def test_request_through_the_bot_declined_reason_never_stored(
    system: System, e2e_user: Any
) -> None:
    name = f"Praxis Ablehn{uuid.uuid4().hex[:6]}"
    practice = await person(system, e2e_user, system.add_listed_practice(name, "Orthopädie"))
    patient = await person(system, e2e_user, system.add_account("patient", "Max Muster"))
    await patient.send_text(patient.service_room, f"suche {name}")
    await patient.wait_for_message(patient.service_room, f"1. {name}")
    reason = f"Rueckenschmerzen-{uuid.uuid4().hex}"
    await patient.send_text(patient.service_room, f"anfragen 1 {reason}")
    await patient.wait_for_message(patient.service_room, "ist gesendet")
    forwarded = await practice.wait_for_message(practice.service_room, reason)
    assert "Max Muster" in forwarded.body

    invite = await new_invite(practice)
    await practice.client.room_leave(invite)  # rejecting the invitation
    declined = await patient.wait_for_message(patient.service_room, "abgelehnt")
    assert name in declined.body
    await request_state(system, invite, "declined")
    assert system.files_containing([reason]) == []


async def test_withdraw_and_expiry_rescind_the_invite(system: System, e2e_user: Any) -> None:
    one = await person(system, e2e_user, system.add_listed_practice("Praxis Rückzug"))
    two = await person(system, e2e_user, system.add_listed_practice("Praxis Ablauf"))
    patient = await person(system, e2e_user, system.add_account("patient", "Lena Muster"))

    first = await patient.create_encrypted_room(invite=[one.user_id])
    pending = await request_state(system, first, "pending")
    await patient.send_text(patient.service_room, f"zurückziehen {pending.id}")
    await patient.wait_for_message(patient.service_room, "ist zurückgezogen")
    await one.wait_for_message(one.service_room, "zurückgezogen")
    await membership(system, first, one.user_id, "leave")
    await request_state(system, first, "withdrawn")
    await patient.send_text(patient.service_room, f"zurückziehen {pending.id}")
    await patient.wait_for_message(patient.service_room, "nicht mehr offen")

    second = await patient.create_encrypted_room(invite=[two.user_id])
    await request_state(system, second, "pending")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=15)
    status, body = await system.admin_api(
        "POST", "/chat-requests/expire", {"as_of": later.isoformat()}
    )
    assert status == 200 and body["expired"] >= 1
    expired = await patient.wait_for_message(patient.service_room, "abgelaufen")
    assert "Praxis Ablauf" in expired.body
    await membership(system, second, two.user_id, "leave")
    await request_state(system, second, "expired")
    status, body = await system.admin_api("POST", "/chat-requests/expire", {"as_of": "morgen"})
    assert status == 400 and "as_of" in body["error"]

    await patient.send_text(patient.service_room, "anfragen")
    listing = await patient.wait_for_message(patient.service_room, "Ihre Chat-Anfragen")
    assert "zurückgezogen" in listing.body and "abgelaufen" in listing.body


async def _joined_but_lost(
    system: System, e2e_user: Any, practice_name: str, patient_name: str
) -> tuple[E2EUser, E2EUser, str, int]:
    """A request the practice accepted, set back to pending as if its join had never arrived
    (Synapse keeps the events queued for the appservice in memory: a crash loses them)."""
    practice = await person(system, e2e_user, system.add_listed_practice(practice_name))
    patient = await person(system, e2e_user, system.add_account("patient", patient_name))
    room = await patient.create_encrypted_room(invite=[practice.user_id])
    await request_state(system, room, "pending")
    await practice.wait_for(lambda: room in practice.invites)
    await practice.join(room)
    request = await request_state(system, room, "accepted")
    await patient.wait_for_message(patient.service_room, "hat Ihre Anfrage")
    async with system.db.transaction() as conn:
        await conn.execute(
            chat_requests.update()
            .where(chat_requests.c.id == request.id)
            .values(state="pending", decided_at=None)
        )
    return patient, practice, room, request.id


async def _practice_still_there(
    system: System, patient: E2EUser, practice: E2EUser, room: str
) -> None:
    url = f"{system.hs_url}/_synapse/admin/v1/rooms/{quote(room)}/members"
    status, members = await json_request("GET", url, await admin_token(system))
    assert status == 200 and practice.user_id in members["members"], members
    canary = f"CANARY-KEPT-{uuid.uuid4().hex}"
    await patient.send_text(room, canary)
    assert (await practice.wait_for_message(room, canary, sender=patient.user_id)).body == canary


async def test_expiry_keeps_a_practice_whose_join_was_lost_and_accepts_the_request(
    system: System, e2e_user: Any
) -> None:
    """A request whose practice joined without the join reaching us must not expire by
    removing the practice from the chat under way: the expiry pass asks Synapse and accepts it."""
    patient, practice, room, _ = await _joined_but_lost(
        system, e2e_user, "Praxis Verloren", "Jana Muster"
    )
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=15)
    status, body = await system.admin_api(
        "POST", "/chat-requests/expire", {"as_of": later.isoformat()}
    )
    assert status == 200 and body["accepted"] >= 1, body
    await request_state(system, room, "accepted")
    await _practice_still_there(system, patient, practice, room)


async def test_withdrawing_never_removes_a_practice_that_is_in_the_room(
    system: System, e2e_user: Any
) -> None:
    """Withdrawing takes back an invite; a practice whose join was lost on the way is in the
    chat already and stays there."""
    patient, practice, room, number = await _joined_but_lost(
        system, e2e_user, "Praxis Zurueck", "Ina Muster"
    )
    await patient.send_text(patient.service_room, f"zurückziehen {number}")
    await patient.wait_for_message(patient.service_room, "ist zurückgezogen")
    async with system.db.reading() as conn:
        row = await store.by_room(conn, room)
    assert row is not None and row.state == "withdrawn" and not row.rescind_pending
    await _practice_still_there(system, patient, practice, room)


async def test_request_limits_refuse_and_create_nothing(system: System, e2e_user: Any) -> None:
    practices = [system.add_listed_practice(f"Praxis Limit {n}") for n in range(4)]
    patient = await e2e_user(system.add_account("patient", "Viel Frager"))
    rooms = [await patient.create_encrypted_room(invite=[p["user_id"]]) for p in practices[:2]]
    for room in rooms:
        await request_state(system, room, "pending")
    # the module learns of the two open requests through the policy-change log, not at once
    await system.policy_caught_up()
    before = len(patient.client.rooms)
    status, body = await patient.api(
        "POST", "/_matrix/client/v3/createRoom", {"invite": [practices[2]["user_id"]]}
    )
    assert status == 403 and "offene Anfragen: höchstens 2" in body["error"]
    await asyncio.sleep(1)
    assert len(patient.client.rooms) == before  # no room was created

    withdrawn = await request_state(system, rooms[0], "pending")
    await patient.client.room_kick(rooms[0], practices[0]["user_id"])  # rescind from the client
    await request_state(system, rooms[0], "withdrawn")
    assert withdrawn.id
    await patient.create_encrypted_room(invite=[practices[2]["user_id"]])  # third today
    await patient.client.room_leave(rooms[1])  # leaving withdraws too
    await request_state(system, rooms[1], "withdrawn")
    await system.policy_caught_up()
    status, body = await patient.api(
        "POST", "/_matrix/client/v3/createRoom", {"invite": [practices[3]["user_id"]]}
    )
    assert status == 403 and "pro Tag: höchstens 3" in body["error"]


async def test_access_code_opens_a_practice_that_takes_no_requests(
    system: System, e2e_user: Any
) -> None:
    closed = system.add_listed_practice("Praxis Geschlossen", visible=False)
    practice = await person(system, e2e_user, closed)
    patient = await person(system, e2e_user, system.add_account("patient", "Code Nutzer"))
    other = await person(system, e2e_user, system.add_account("patient", "Anderer Nutzer"))
    status, body = await patient.api(
        "POST", "/_matrix/client/v3/createRoom", {"invite": [practice.user_id]}
    )
    assert status == 403 and "keine neuen Chat-Anfragen" in body["error"]

    await practice.send_text(practice.service_room, "code")
    issued = await practice.wait_for_message(practice.service_room, "Ihr Zugangscode")
    code = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}", issued.body).group(0)  # type: ignore[union-attr]
    await patient.send_text(patient.service_room, "code ZZZZ-2222")
    await patient.wait_for_message(patient.service_room, "gibt es nicht")
    await patient.send_text(patient.service_room, f"code {code.lower()}")
    await patient.wait_for_message(patient.service_room, "Der Code gilt für")
    await other.send_text(other.service_room, f"code {code}")
    await other.wait_for_message(other.service_room, "bereits verwendet")

    await patient.send_text(patient.service_room, "anfragen 1")
    await patient.wait_for_message(patient.service_room, "ist gesendet")
    room = await new_invite(practice)
    await request_state(system, room, "pending")
