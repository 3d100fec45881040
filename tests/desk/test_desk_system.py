"""The insurer channel end to end: real Synapse, real E2E clients for patients and agents, the
desk bot in between."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import aiohttp

from messenger.db.stores import desk as store
from tests.desk.desk_people import (
    concern,
    media_in,
    patient,
    staff,
    ticket,
    ticket_room_of,
    wait_ticket,
)
from tests.media import download_decrypted, upload_encrypted
from tests.system import System, messenger_cli


async def test_a_concern_becomes_a_ticket_answered_both_ways_with_files(
    system: System, e2e_user: Any
) -> None:
    erika = await patient(system, e2e_user, "Erika Mustermann")
    anna = await staff(system, e2e_user, "Anna Berger")
    channel = erika.channel  # type: ignore[attr-defined]
    greeting = await erika.wait_for_message(channel, "Willkommen beim Kundenservice")
    assert "2. Krankengeld" in greeting.body and "24 Stunden" in greeting.body

    number = await concern(erika, "Krankengeld", "Mein Krankengeld für November fehlt noch.")
    confirmation = await erika.wait_for_message(channel, f"#{number} (Krankengeld)")
    assert re.search(
        r"bis \w\w\., \d\d\.\d\d\.\d{4}, \d\d:\d\d Uhr eine Antwort", confirmation.body
    )
    row = await ticket(system, number)
    assert row.topic == "krankengeld" and row.status == store.OPEN
    assert row.due_at is not None and row.due_at - row.created_at == 24 * 3_600_000

    post = await anna.wait_for_message(anna.queue, f"Neu: #{number} · Krankengeld")  # type: ignore[attr-defined]
    assert "Mein Krankengeld für November fehlt noch." in post.body
    await anna.send_text(anna.queue, f"nehmen {number}")  # type: ignore[attr-defined]
    room = await ticket_room_of(anna, number)
    intro = await anna.wait_for_message(
        room, f"Ticket #{number} · Krankengeld · von Erika Mustermann"
    )
    assert "!notiz" in intro.body
    await anna.wait_for_message(room, "Erika Mustermann: Mein Krankengeld für November fehlt noch.")
    await anna.wait_for_message(anna.queue, "übernommen von Anna Berger")  # type: ignore[attr-defined]

    original = b"%PDF-1.4 Arbeitsunfaehigkeitsbescheinigung"
    file = await upload_encrypted(system, erika, original, "au.pdf")
    await erika.send_event(channel, "m.room.message",
                           {"msgtype": "m.file", "body": "au.pdf", "file": file})  # fmt: skip
    mirrored = await media_in(anna, room, "au.pdf")
    assert await download_decrypted(system, anna, mirrored["file"]) == original

    note = await anna.send_text(room, "!notiz Rückruf bei der Personalabteilung nötig")
    await anna.wait_for_message(room, "Notiz gespeichert")
    await anna.send_event(room, "m.room.message", {  # an edit never goes out
        "msgtype": "m.text", "body": "* !notiz Rückruf bei der Personalabteilung erledigt",
        "m.new_content": {"msgtype": "m.text", "body": "!notiz Rückruf erledigt"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": note},
    })  # fmt: skip
    await anna.wait_for_message(room, "Bearbeitungen werden nicht")
    await anna.send_text(room, "!vorlage gibtsnicht")
    await anna.wait_for_message(room, "Keine Vorlage „gibtsnicht“")
    await anna.send_text(room, "!vorlage eingang")
    await erika.wait_for_message(channel, "Anna: Vielen Dank, Ihre Unterlagen sind eingegangen.")
    await anna.send_text(room, "Guten Tag, wir prüfen Ihre Bescheinigung.")
    answer = await erika.wait_for_message(channel, "wir prüfen Ihre Bescheinigung")
    assert answer.body == "Anna: Guten Tag, wir prüfen Ihre Bescheinigung."
    answered = await wait_ticket(system, number, lambda t: t.status == store.WAITING)
    assert answered.first_response_at is not None and answered.breached_at is None

    letter = b"\x89PNG Bescheid"
    image = await upload_encrypted(system, anna, letter, "bescheid.png")
    await anna.send_event(room, "m.room.message",
                          {"msgtype": "m.image", "body": "bescheid.png", "file": image})  # fmt: skip
    relayed = await media_in(erika, channel, "bescheid.png")
    assert await download_decrypted(system, erika, relayed["file"]) == letter

    await anna.send_text(room, "!schliessen Die Zahlung ist angewiesen.")
    closing = await erika.wait_for_message(channel, f"Ihr Anliegen #{number} ist abgeschlossen")
    assert "Die Zahlung ist angewiesen." in closing.body
    await wait_ticket(system, number, lambda t: t.status == store.CLOSED)
    assert not any("Rückruf" in m.body or "!notiz" in m.body for m in erika.messages)

    await erika.send_text(channel, "Eine Frage noch: wann kommt das Geld?")  # reopens (7 days)
    await anna.wait_for_message(room, f"#{number} ist wieder offen")
    await anna.wait_for_message(room, "Erika Mustermann: Eine Frage noch")
    reopened = await wait_ticket(system, number, lambda t: t.status == store.CLAIMED)
    assert reopened.agent_id == anna.user_id and reopened.closed_at is None
    await erika.wait_for_message(channel, f"Ihre Nachricht zu #{number} ist angekommen")
    # the channel's content is sealed in our database and never logged; the server has
    # ciphertext only
    assert (
        system.files_containing(["Mein Krankengeld für November fehlt noch", "Rückruf bei der"])
        == []
    )


async def test_only_one_of_two_agents_gets_a_ticket_and_non_staff_stay_out(
    system: System, e2e_user: Any
) -> None:
    paul = await patient(system, e2e_user, "Paul Probe")
    ben = await staff(system, e2e_user, "Ben Claus")
    cem = await staff(system, e2e_user, "Cem Dogan")
    first = await concern(paul, "1", "Ich möchte meinen Beitrag ändern.")
    await ben.wait_for_message(ben.queue, f"Neu: #{first}")  # type: ignore[attr-defined]
    await cem.wait_for_message(cem.queue, f"Neu: #{first}")  # type: ignore[attr-defined]
    await asyncio.gather(ben.send_text(ben.queue, f"nehmen {first}"),  # type: ignore[attr-defined]
                         cem.send_text(cem.queue, f"nehmen {first}"))  # type: ignore[attr-defined]  # fmt: skip
    claimed = await wait_ticket(system, first, lambda t: t.agent_id is not None)
    winner, loser = (ben, cem) if claimed.agent_id == ben.user_id else (cem, ben)
    await loser.wait_for_message(loser.queue, f"#{first} hat bereits", timeout=30)  # type: ignore[attr-defined]
    first_room = await ticket_room_of(winner, first)
    await asyncio.sleep(2)
    assert not any(r for r in loser.invites if r != loser.queue)  # type: ignore[attr-defined]
    seen = len(loser.messages)
    await loser.send_text(loser.queue, "offen")  # type: ignore[attr-defined]
    listing = await loser.wait_for(
        lambda: next(
            (m for m in loser.messages[seen:] if "ffene" in m.body and "Tickets" in m.body), None
        )
    )
    assert f"#{first} " not in listing.body  # claimed: off everyone's to-do list

    # 👍 on the queue post claims too; the holder hands it to the other agent
    second = await concern(paul, "Sonstiges", "Und noch etwas anderes.", further=True)
    post = await loser.wait_for_message(loser.queue, f"Neu: #{second}")  # type: ignore[attr-defined]
    await loser.send_event(loser.queue, "m.reaction", {"m.relates_to": {  # type: ignore[attr-defined]
        "rel_type": "m.annotation", "event_id": post.event_id, "key": "👍"}})  # fmt: skip
    await wait_ticket(system, second, lambda t: t.agent_id == loser.user_id)
    await ticket_room_of(loser, second)
    await loser.send_text(loser.queue, f"zuweisen {second} {paul.user_id}")  # type: ignore[attr-defined]
    await loser.wait_for_message(loser.queue, "gehört nicht zum Kundenservice")  # type: ignore[attr-defined]
    await loser.send_text(loser.queue, f"zuweisen {second} {winner.user_id}")  # type: ignore[attr-defined]
    await loser.wait_for_message(loser.queue, f"#{second} ist jetzt bei")  # type: ignore[attr-defined]
    second_room = await ticket_room_of(winner, second)  # the new room shows the history
    await winner.wait_for_message(second_room, "Paul Probe: Und noch etwas anderes.")
    await wait_ticket(system, second, lambda t: t.agent_id == winner.user_id)

    # a patient cannot join the staff rooms, and an agent cannot bring anyone in
    status, body = await paul.api("POST", f"/_matrix/client/v3/join/{winner.queue}", {})  # type: ignore[attr-defined]
    assert status == 403, body
    status, body = await winner.api("POST", f"/_matrix/client/v3/rooms/{winner.queue}/invite",  # type: ignore[attr-defined]
                                    {"user_id": paul.user_id})  # fmt: skip
    assert status == 403, body
    # a patient's "nehmen" in their own channel is just a message to the insurer (on their
    # latest concern)
    await paul.send_text(paul.channel, f"nehmen {first}")  # type: ignore[attr-defined]
    await winner.wait_for_message(second_room, f"Paul Probe: nehmen {first}")
    assert not any(f"nehmen {first}" in m.body for m in winner.messages if m.room_id == first_room)


async def test_a_message_before_the_topic_waits_for_the_poll_answer(
    system: System, e2e_user: Any
) -> None:
    lena = await patient(system, e2e_user, "Lena Lang")
    agent = await staff(system, e2e_user, "Dora Dienst")
    channel = lena.channel  # type: ignore[attr-defined]
    await lena.send_text(channel, "Ich brauche eine Mitgliedsbescheinigung für den Arbeitgeber.")
    await lena.wait_for_message(channel, "Zu welchem Thema gehört sie?")
    async with system.db.reading() as conn:
        poll = (await store.channel_of_patient(conn, lena.user_id)).menu_event_id  # type: ignore[union-attr]
    assert poll is not None
    await lena.send_event(channel, "org.matrix.msc3381.poll.response", {
        "m.relates_to": {"rel_type": "m.reference", "event_id": poll},
        "org.matrix.msc3381.poll.response": {"answers": ["bescheinigungen"]},
    })  # fmt: skip
    confirmation = await lena.wait_for_message(channel, "(Bescheinigungen) ist bei uns eingegangen")
    number = int(re.search(r"#(\d+)", confirmation.body).group(1))  # type: ignore[union-attr]
    post = await agent.wait_for_message(agent.queue, f"Neu: #{number} · Bescheinigungen")  # type: ignore[attr-defined]
    assert "Mitgliedsbescheinigung" in post.body


async def test_reminder_escalation_stale_claim_and_figures(system: System, e2e_user: Any) -> None:
    """The clock is moved with `retention run desk_sla --as-of`: 75 % of the SLA brings a
    reminder, the due time an escalation to the supervisors, a claim nobody answered goes back
    to the queue."""
    otto = await patient(system, e2e_user, "Otto Offen")
    boss = await staff(system, e2e_user, "Sabine Chefin", "supervisor")
    number = await concern(otto, "3", "Wo bleibt mein Antrag?")
    row = await ticket(system, number)
    await boss.wait_for_message(boss.queue, f"Neu: #{number}")  # type: ignore[attr-defined]

    def run_at(ms: int) -> dict[str, Any]:
        import datetime as dt

        when = dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%dT%H:%M")
        done = messenger_cli("retention", "run", "desk_sla", "--as-of", when, "--data-dir",
                             str(system.data_dir), "--json")  # fmt: skip
        outcome: dict[str, Any] = json.loads(done.stdout)
        assert outcome["error"] is None, outcome
        return outcome["result"]  # type: ignore[no-any-return]

    assert row.due_at is not None and row.next_reminder_at is not None
    assert run_at(row.next_reminder_at + 60_000)["reminded"] >= 1
    await boss.wait_for_message(boss.queue, f"Erinnerung: #{number}")  # type: ignore[attr-defined]
    assert (await ticket(system, number)).reminders_sent == 1
    run_at(row.next_reminder_at + 120_000)  # again: no second reminder for the same point
    assert (await ticket(system, number)).reminders_sent == 1
    assert run_at(row.due_at + 60_000)["escalated"] >= 1
    escalation = await boss.wait_for_message(boss.supervisors, f"SLA verletzt: #{number}")  # type: ignore[attr-defined]
    assert "niemand" in escalation.body
    breached = await ticket(system, number)
    assert breached.breached_at == row.due_at and breached.escalated_at is not None

    await boss.send_text(boss.queue, f"nehmen {number}")  # type: ignore[attr-defined]
    await ticket_room_of(boss, number)
    claimed = await wait_ticket(system, number, lambda t: t.status == store.CLAIMED)
    assert run_at(claimed.last_activity_at + 5 * 3_600_000 + 600_000)["returned"] >= 1
    back = await wait_ticket(system, number, lambda t: t.status == store.OPEN)
    assert back.agent_id is None
    await boss.wait_for_message(boss.queue, f"Wieder offen: #{number}")  # type: ignore[attr-defined]

    stats = messenger_cli("desk", "stats", "--json", "--data-dir", str(system.data_dir))
    figures = json.loads(stats.stdout)
    assert figures["opened"] >= 1 and figures["breaches"] >= 1 and figures["open_total"] >= 1
    assert "leistungen" in figures["open_by_topic"]
    text = messenger_cli("desk", "stats", "--data-dir", str(system.data_dir)).stdout
    assert "answered within SLA" in text
    async with aiohttp.ClientSession() as session, session.get(system.as_url + "/metrics") as got:
        assert got.status == 200
        exposition = await got.text()
    for name in ("messenger_desk_open_tickets", "messenger_desk_answered_within_sla_ratio",
                 "messenger_desk_breaches", "messenger_desk_opened_tickets"):  # fmt: skip
        assert f"# TYPE {name} gauge" in exposition
    bad = messenger_cli("desk", "stats", "--since", "gestern", "--data-dir",
                        str(system.data_dir), check=False)  # fmt: skip
    assert bad.returncode == 2 and "--since" in bad.stderr
