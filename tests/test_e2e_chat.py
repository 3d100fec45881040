"""Patient and practice chat end-to-end encrypted through the real Synapse; the plaintext never
reaches Synapse's database, our database or any log."""

from __future__ import annotations

import asyncio
import uuid

from messenger.db.stores import registry
from tests.system import System


async def test_patient_and_practice_exchange_e2e_messages_and_no_plaintext_is_stored(
    system: System, e2e_user
) -> None:
    patient_account = system.add_account("patient", "Erika Mustermann")
    practice_account = system.add_listed_practice("Praxis Dr. Weber")
    patient = await e2e_user(patient_account)
    practice = await e2e_user(practice_account)

    room = await patient.open_chat_with(practice)

    canary_patient = f"CANARY-PATIENT-{uuid.uuid4().hex}"
    canary_practice = f"CANARY-PRACTICE-{uuid.uuid4().hex}"
    await patient.send_text(room, f"Guten Tag, {canary_patient}")
    received = await practice.wait_for_message(room, canary_patient, sender=patient.user_id)
    assert received.body == f"Guten Tag, {canary_patient}"
    await practice.send_text(room, f"Hallo zurück {canary_practice}")
    answer = await patient.wait_for_message(room, canary_practice, sender=practice.user_id)
    assert answer.body.endswith(canary_practice)
    assert not patient.undecryptable and not practice.undecryptable

    # the appservice saw the envelopes: room registry with roles and counts, no content
    async def registered() -> None:
        while True:
            async with system.db.transaction() as conn:
                row = await registry.get_room(conn, room)
            if row and row.message_count >= 2:
                return
            await asyncio.sleep(0.3)

    await asyncio.wait_for(registered(), 30)
    async with system.db.transaction() as conn:
        row = await registry.get_room(conn, room)
        members = {m.user_id: m for m in await registry.members(conn, room)}
    assert row is not None and row.encrypted and row.kind == "care"
    assert (
        members[patient.user_id].role == "patient" and members[patient.user_id].membership == "join"
    )
    assert members[practice.user_id].role == "practice"
    assert members[patient.user_id].message_count == 1
    assert members[practice.user_id].last_active_at is not None

    # the server never stored the plaintext: Synapse's database, ours, every log file
    assert system.files_containing([canary_patient, canary_practice]) == []
