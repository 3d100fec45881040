"""A care chat with everything an export must show: text, a reply, an edit, a deletion, an
encrypted image and PDF — between a real patient and practice (nio + vodozemac)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from tests.e2e_client import E2EUser
from tests.media import upload_encrypted
from tests.system import System

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
PDF = b"%PDF-1.4\n% Befund fuer den Export\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


@dataclass
class CareChat:
    room: str
    patient: E2EUser
    practice: E2EUser
    ids: dict[str, str] = field(default_factory=dict)
    cut_ms: int = 0  # between the first and the later messages, for --since


async def chat_pair(
    system: System, e2e_user: Any, patient_name: str, practice_name: str
) -> tuple[dict[str, Any], E2EUser, E2EUser, str]:
    """A patient's account and client, a listed practice's client, their care chat."""
    patient_account = system.add_account("patient", patient_name)
    practice_account = system.add_listed_practice(practice_name)
    patient, practice = await e2e_user(patient_account), await e2e_user(practice_account)
    return patient_account, patient, practice, await patient.open_chat_with(practice)


async def _send(user: E2EUser, room: str, content: dict[str, Any]) -> str:
    return await user.send_event(room, "m.room.message", content)


async def converse(system: System, chat: CareChat) -> None:
    patient, practice, room, ids = chat.patient, chat.practice, chat.room, chat.ids
    ids["first"] = await patient.send_text(room, "Guten Tag, ich habe eine Frage zum Befund.")
    await practice.wait_for_message(room, "Frage zum Befund")
    await asyncio.sleep(1.2)
    chat.cut_ms = int(time.time() * 1000)
    await asyncio.sleep(1.2)
    ids["reply"] = await _send(practice, room, {
        "msgtype": "m.text",
        "body": f"> <{patient.user_id}> Guten Tag, ich habe eine Frage zum Befund.\n\n"
                "Gern, der Befund ist unauffällig.",
        "m.relates_to": {"m.in_reply_to": {"event_id": ids["first"]}},
    })  # fmt: skip
    ids["typo"] = await patient.send_text(room, "Vielen Dnak!")
    await _send(patient, room, {
        "msgtype": "m.text", "body": "* Vielen Dank!",
        "m.new_content": {"msgtype": "m.text", "body": "Vielen Dank!"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": ids["typo"]},
    })  # fmt: skip
    ids["secret"] = await patient.send_text(room, "Meine alte Telefonnummer 0301234567")
    deleted = await patient.client.room_redact(room, ids["secret"], reason="vertippt")
    assert getattr(deleted, "event_id", None), deleted
    image = await upload_encrypted(system, practice, PNG, "roentgen.png")
    ids["image"] = await _send(practice, room, {
        "msgtype": "m.image", "body": "roentgen.png", "file": image,
        "info": {"mimetype": "image/png", "size": len(PNG), "w": 1, "h": 1},
    })  # fmt: skip
    pdf = await upload_encrypted(system, practice, PDF, "Befund 2026.pdf")
    ids["pdf"] = await _send(practice, room, {
        "msgtype": "m.file", "body": "Befund 2026.pdf", "file": pdf,
        "info": {"mimetype": "application/pdf", "size": len(PDF)},
    })  # fmt: skip
    await patient.wait_for(lambda: len([m for m in patient.media if m[0] == room]) == 2)
