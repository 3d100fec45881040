"""The appservice inbox: transactions and event envelopes, stored before Synapse gets its 200."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.database import insert_ignoring_duplicates
from messenger.db.schema import appservice_txns, inbox_events


@dataclass(frozen=True)
class InboxEvent:
    id: int
    event_id: str | None
    envelope: dict[str, Any]


async def accept_transaction(
    conn: AsyncConnection, txn_id: str, envelopes: list[dict[str, Any]], at: int
) -> bool:
    """Store a transaction's envelopes for the worker; returns True when the txn id was seen
    before.

    Events are stored even then, deduplicated by event id alone: if Synapse's counter ever
    restarts (a reset homeserver) a reused txn id must not swallow new events.
    """
    seen = await add_transaction(conn, txn_id, len(envelopes), at)
    await add_events(conn, txn_id, envelopes, at)
    return seen


async def add_transaction(conn: AsyncConnection, txn_id: str, count: int, at: int) -> bool:
    """Record a transaction id; True when it was seen before."""
    inserted = await conn.execute(
        insert_ignoring_duplicates(conn, appservice_txns).values(
            txn_id=txn_id, received_at=at, event_count=count
        )
    )
    return inserted.rowcount == 0


async def add_events(
    conn: AsyncConnection,
    txn_id: str,
    envelopes: list[dict[str, Any]],
    at: int,
    processed: bool = False,
) -> int:
    """Store envelopes, skipping event ids stored before; returns how many were new.
    `processed`: the caller applies them in this same database transaction."""
    if not envelopes:
        return 0
    rows = await conn.execute(
        insert_ignoring_duplicates(conn, inbox_events).returning(inbox_events.c.id),
        [
            {
                "event_id": e["event_id"] if isinstance(e.get("event_id"), str) else None,
                "txn_id": txn_id,
                "envelope": json.dumps(e, separators=(",", ":")),
                "received_at": at,
                "processed_at": at if processed else None,
            }
            for e in envelopes
        ],
    )
    return len(rows.all())


async def has_pending(conn: AsyncConnection) -> bool:
    """Whether any stored event waits (new events must not overtake it)."""
    row = await conn.execute(
        sa.select(inbox_events.c.id).where(inbox_events.c.processed_at.is_(None)).limit(1)
    )
    return row.first() is not None


async def pending(conn: AsyncConnection, limit: int) -> list[InboxEvent]:
    rows = await conn.execute(
        sa.select(inbox_events.c.id, inbox_events.c.event_id, inbox_events.c.envelope)
        .where(inbox_events.c.processed_at.is_(None))
        .order_by(inbox_events.c.id)
        .limit(limit)
    )
    return [InboxEvent(row.id, row.event_id, json.loads(row.envelope)) for row in rows]


async def mark_processed(
    conn: AsyncConnection, row_id: int, at: int, error: str | None = None
) -> bool:
    """True when this call marked it (so a row is processed exactly once even with two workers)."""
    result = await conn.execute(
        inbox_events.update()
        .where(inbox_events.c.id == row_id, inbox_events.c.processed_at.is_(None))
        .values(processed_at=at, error=error)
    )
    return result.rowcount == 1


async def mark_many_processed(conn: AsyncConnection, row_ids: list[int], at: int) -> bool:
    """Mark a batch; True only if this call marked every one of them (no other worker did)."""
    if not row_ids:
        return True
    result = await conn.execute(
        inbox_events.update()
        .where(inbox_events.c.id.in_(row_ids), inbox_events.c.processed_at.is_(None))
        .values(processed_at=at)
    )
    return result.rowcount == len(row_ids)


async def prune(conn: AsyncConnection, older_than: int) -> int:
    """Drop processed events and transaction ids received before `older_than` (bounded dedupe)."""
    events = await conn.execute(
        inbox_events.delete().where(
            inbox_events.c.processed_at.is_not(None), inbox_events.c.received_at < older_than
        )
    )
    await conn.execute(appservice_txns.delete().where(appservice_txns.c.received_at < older_than))
    return events.rowcount


async def counts(conn: AsyncConnection) -> dict[str, int]:
    total = (await conn.execute(sa.select(sa.func.count()).select_from(inbox_events))).scalar_one()
    waiting = (
        await conn.execute(
            sa.select(sa.func.count())
            .select_from(inbox_events)
            .where(inbox_events.c.processed_at.is_(None))
        )
    ).scalar_one()
    failed = (
        await conn.execute(
            sa.select(sa.func.count())
            .select_from(inbox_events)
            .where(inbox_events.c.error.is_not(None))
        )
    ).scalar_one()
    return {"stored": total, "pending": waiting, "failed": failed}


async def failures(conn: AsyncConnection) -> list[tuple[str | None, str]]:
    rows = await conn.execute(
        sa.select(inbox_events.c.event_id, inbox_events.c.error).where(
            inbox_events.c.error.is_not(None)
        )
    )
    return [(row.event_id, row.error) for row in rows]
