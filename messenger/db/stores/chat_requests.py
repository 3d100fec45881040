"""Chat requests, access codes and code grants, and the notice outbox.

Codes are stored only as keyed hashes. The outbox holds notices for the service bot as a text
key and its arguments (never message content); a notice is written in the same transaction as
the change it reports, so a crash cannot lose it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.database import NOTED_PREFIX, insert_ignoring_duplicates, retry_delay_ms
from messenger.db.schema import (
    access_codes,
    accounts,
    chat_requests,
    code_failures,
    code_grants,
    notice_outbox,
    room_members,
)
from messenger.db.stores import policy_changes

PENDING = "pending"
ACCEPTED = "accepted"
DECLINED = "declined"
WITHDRAWN = "withdrawn"
EXPIRED = "expired"
DAY_MS = 86_400_000


@dataclass(frozen=True)
class ChatRequestRow:
    id: int
    room_id: str
    patient_id: str
    practice_id: str
    state: str
    created_at: int
    expires_at: int
    decided_at: int | None
    rescind_pending: bool


def _request(row: Any) -> ChatRequestRow:
    return ChatRequestRow(**{key: row._mapping[key] for key in ChatRequestRow.__dataclass_fields__})


async def open_request(
    conn: AsyncConnection, room_id: str, patient: str, practice: str, at: int, expires_at: int
) -> bool:
    """Record a pending request for this room; False if the room already has one."""
    result = await conn.execute(
        insert_ignoring_duplicates(conn, chat_requests).values(
            room_id=room_id,
            patient_id=patient,
            practice_id=practice,
            state=PENDING,
            created_at=at,
            expires_at=expires_at,
            rescind_pending=False,
        )
    )
    policy_changes.note(conn, patient)
    return bool(result.rowcount)


async def by_room(conn: AsyncConnection, room_id: str) -> ChatRequestRow | None:
    row = (
        await conn.execute(chat_requests.select().where(chat_requests.c.room_id == room_id))
    ).first()
    return _request(row) if row else None


async def get(conn: AsyncConnection, request_id: int) -> ChatRequestRow | None:
    row = (
        await conn.execute(chat_requests.select().where(chat_requests.c.id == request_id))
    ).first()
    return _request(row) if row else None


async def decide(
    conn: AsyncConnection, request_id: int, state: str, at: int, *, rescind: bool = False
) -> bool:
    """Move a pending request to its end state; False if it was no longer pending."""
    patient = (
        await conn.execute(
            chat_requests.update()
            .where(chat_requests.c.id == request_id, chat_requests.c.state == PENDING)
            .values(state=state, decided_at=at, rescind_pending=rescind)
            .returning(chat_requests.c.patient_id)
        )
    ).scalar_one_or_none()
    if patient is None:
        return False
    policy_changes.note(conn, patient)
    return True


async def rescinded(conn: AsyncConnection, request_id: int) -> None:
    await conn.execute(
        chat_requests.update().where(chat_requests.c.id == request_id).values(rescind_pending=False)
    )


async def due(conn: AsyncConnection, now: int, limit: int = 100) -> list[ChatRequestRow]:
    """Pending requests past their expiry, and ended ones whose invite is still to be rescinded."""
    rows = await conn.execute(
        chat_requests.select()
        .where(
            sa.or_(
                sa.and_(chat_requests.c.state == PENDING, chat_requests.c.expires_at <= now),
                chat_requests.c.rescind_pending.is_(True),
            )
        )
        .order_by(chat_requests.c.id)
        .limit(limit)
    )
    return [_request(row) for row in rows]


async def of_patient(conn: AsyncConnection, patient: str, limit: int = 20) -> list[ChatRequestRow]:
    rows = await conn.execute(
        chat_requests.select()
        .where(chat_requests.c.patient_id == patient)
        .order_by(chat_requests.c.id.desc())
        .limit(limit)
    )
    return [_request(row) for row in rows]


async def of_practice(conn: AsyncConnection, practice: str, state: str) -> list[ChatRequestRow]:
    rows = await conn.execute(
        chat_requests.select()
        .where(chat_requests.c.practice_id == practice, chat_requests.c.state == state)
        .order_by(chat_requests.c.id)
    )
    return [_request(row) for row in rows]


async def open_and_started(
    conn: AsyncConnection, patient: str, since: int
) -> tuple[int, list[int]]:
    """(open requests, start times of the requests started since `since`) of a patient."""
    rows = (
        await conn.execute(
            sa.select(chat_requests.c.state, chat_requests.c.created_at).where(
                chat_requests.c.patient_id == patient,
                sa.or_(chat_requests.c.state == PENDING, chat_requests.c.created_at >= since),
            )
        )
    ).all()
    started = sorted(int(row.created_at) for row in rows if row.created_at >= since)
    return sum(1 for row in rows if row.state == PENDING), started


async def peers_of(conn: AsyncConnection, user: str) -> dict[str, str]:
    """Everybody who shares a room with `user`, both joined or invited: user -> one such room."""
    mine = room_members.alias("mine")
    theirs = room_members.alias("theirs")
    rows = await conn.execute(
        sa.select(theirs.c.user_id, sa.func.min(mine.c.room_id).label("room_id"))
        .join(theirs, theirs.c.room_id == mine.c.room_id)
        .where(
            mine.c.user_id == user,
            theirs.c.user_id != user,
            mine.c.membership.in_(("join", "invite")),
            theirs.c.membership.in_(("join", "invite")),
        )
        .group_by(theirs.c.user_id)
    )
    return {str(row.user_id): str(row.room_id) for row in rows}


# --- access codes ---------------------------------------------------------------------------
async def add_code(
    conn: AsyncConnection, code_hash: str, practice: str, patient: str | None, at: int, until: int
) -> None:
    await conn.execute(
        access_codes.insert().values(
            code_hash=code_hash,
            practice_id=practice,
            patient_id=patient,
            created_at=at,
            expires_at=until,
        )
    )


@dataclass(frozen=True)
class CodeRow:
    practice_id: str
    patient_id: str | None
    expires_at: int
    redeemed_by: str | None


async def code(conn: AsyncConnection, code_hash: str) -> CodeRow | None:
    row = (
        await conn.execute(access_codes.select().where(access_codes.c.code_hash == code_hash))
    ).first()
    if row is None:
        return None
    return CodeRow(row.practice_id, row.patient_id, row.expires_at, row.redeemed_by)


async def redeem(conn: AsyncConnection, code_hash: str, patient: str, at: int) -> bool:
    """Single use: only the first redemption of an unexpired code succeeds."""
    result = await conn.execute(
        access_codes.update()
        .where(
            access_codes.c.code_hash == code_hash,
            access_codes.c.redeemed_by.is_(None),
            access_codes.c.expires_at > at,
        )
        .values(redeemed_by=patient, redeemed_at=at)
    )
    return bool(result.rowcount)


async def grant(conn: AsyncConnection, patient: str, practice: str, at: int) -> None:
    await conn.execute(
        insert_ignoring_duplicates(conn, code_grants).values(
            patient_id=patient, practice_id=practice, granted_at=at
        )
    )
    policy_changes.note(conn, patient)


async def grants_of(conn: AsyncConnection, patient: str) -> list[str]:
    rows = await conn.execute(
        sa.select(code_grants.c.practice_id).where(code_grants.c.patient_id == patient)
    )
    return [str(row.practice_id) for row in rows]


async def use_grant(conn: AsyncConnection, patient: str, practice: str) -> None:
    await conn.execute(
        code_grants.delete().where(
            code_grants.c.patient_id == patient, code_grants.c.practice_id == practice
        )
    )
    policy_changes.note(conn, patient)


async def record_failure(conn: AsyncConnection, user: str, at: int) -> None:
    await conn.execute(code_failures.insert().values(user_id=user, at=at))


async def failures_since(conn: AsyncConnection, user: str, since: int) -> int:
    row = await conn.execute(
        sa.select(sa.func.count()).where(
            code_failures.c.user_id == user, code_failures.c.at >= since
        )
    )
    return int(row.scalar_one())


async def prune_codes(conn: AsyncConnection, before: int) -> None:
    await conn.execute(access_codes.delete().where(access_codes.c.expires_at < before))
    await conn.execute(code_failures.delete().where(code_failures.c.at < before))


# --- notices --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Notice:
    id: int
    user_id: str
    text_key: str
    args: dict[str, str]
    room_id: str
    language: str | None


NOTICES_QUEUED = NOTED_PREFIX + "notices"  # set in conn.info by add_notice, for this transaction


async def add_notice(
    conn: AsyncConnection, user: str, text_key: str, args: dict[str, str], at: int
) -> None:
    await conn.execute(
        notice_outbox.insert().values(
            user_id=user, text_key=text_key, args=json.dumps(args), created_at=at
        )
    )
    conn.info[NOTICES_QUEUED] = True


def notices_queued(conn: AsyncConnection) -> bool:
    """Whether this transaction queued a notice (so the courier is worth waking after it)."""
    return bool(conn.info.get(NOTICES_QUEUED))


async def unsent_notices(conn: AsyncConnection, now: int, limit: int = 50) -> list[Notice]:
    """Unsent notices due now, of users who have a service room (the others wait until it
    exists); a notice whose sending failed waits for its next attempt and holds up nobody."""
    rows = await conn.execute(
        sa.select(notice_outbox, accounts.c.service_room_id, accounts.c.language)
        .join(accounts, accounts.c.user_id == notice_outbox.c.user_id)
        .where(
            notice_outbox.c.sent_at.is_(None),
            notice_outbox.c.next_attempt_at <= now,
            accounts.c.service_room_id.is_not(None),
        )
        .order_by(notice_outbox.c.id)
        .limit(limit)
    )
    return [
        Notice(r.id, r.user_id, r.text_key, json.loads(r.args), r.service_room_id, r.language)
        for r in rows
    ]


async def mark_sent(conn: AsyncConnection, notice_id: int, at: int) -> None:
    await conn.execute(
        notice_outbox.update().where(notice_outbox.c.id == notice_id).values(sent_at=at)
    )


async def postpone_notice(conn: AsyncConnection, notice_id: int, now: int) -> int:
    """Count a failed attempt and schedule the next one (5 s, doubling, at most an hour)."""
    attempts = int(
        (
            await conn.execute(
                sa.select(notice_outbox.c.attempts).where(notice_outbox.c.id == notice_id)
            )
        ).scalar_one()
    )
    delay = retry_delay_ms(attempts)
    await conn.execute(
        notice_outbox.update()
        .where(notice_outbox.c.id == notice_id)
        .values(attempts=attempts + 1, next_attempt_at=now + delay)
    )
    return delay


async def prune_notices(conn: AsyncConnection, before: int) -> None:
    await conn.execute(
        notice_outbox.delete().where(
            notice_outbox.c.sent_at.is_not(None), notice_outbox.c.sent_at < before
        )
    )
