"""Job runs: one row per job holding its run lock (holder + lease) and its last result, and the
retention audit log (job, room, action, count, time — never content).

The lock is a compare-and-set on the row: a runner takes it only if nobody holds it or the
holder's lease ran out (a crashed process). Works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.database import insert_ignoring_duplicates
from messenger.db.schema import job_runs, retention_audit


@dataclass(frozen=True)
class JobRunRow:
    name: str
    holder: str | None
    lease_until: int
    last_started_at: int | None
    last_finished_at: int | None
    last_result: dict[str, Any] | None
    last_error: str | None
    runs: int

    @property
    def succeeded(self) -> bool:
        """Its last run finished without an error."""
        return self.last_finished_at is not None and self.last_error is None


@dataclass(frozen=True)
class AuditRow:
    job: str
    room_id: str | None
    action: str
    count: int
    at: int


async def claim(
    conn: AsyncConnection, name: str, holder: str, now: int, lease_ms: int, *,
    renewing: bool = False,
) -> bool:  # fmt: skip
    """Take the lock if it is free or its lease ran out (`renewing`: or we hold it already)."""
    free = [job_runs.c.holder.is_(None), job_runs.c.lease_until < now]
    if renewing:
        free.append(job_runs.c.holder == holder)
    await conn.execute(
        insert_ignoring_duplicates(conn, job_runs).values(name=name, lease_until=0, runs=0)
    )
    result = await conn.execute(
        job_runs.update()
        .where(
            job_runs.c.name == name,
            sa.or_(*free),
        )
        .values(holder=holder, lease_until=now + lease_ms)
    )
    return result.rowcount == 1


async def mark_started(conn: AsyncConnection, name: str, holder: str, now: int) -> None:
    await conn.execute(
        job_runs.update()
        .where(job_runs.c.name == name, job_runs.c.holder == holder)
        .values(last_started_at=now)
    )


async def renew(conn: AsyncConnection, name: str, holder: str, until: int) -> bool:
    result = await conn.execute(
        job_runs.update()
        .where(job_runs.c.name == name, job_runs.c.holder == holder)
        .values(lease_until=until)
    )
    return result.rowcount == 1


async def release(conn: AsyncConnection, name: str, holder: str) -> None:
    await conn.execute(
        job_runs.update()
        .where(job_runs.c.name == name, job_runs.c.holder == holder)
        .values(holder=None, lease_until=0)
    )


async def finish(
    conn: AsyncConnection, name: str, holder: str, now: int,
    result: dict[str, Any] | None, error: str | None,
) -> None:  # fmt: skip
    await conn.execute(
        job_runs.update()
        .where(job_runs.c.name == name, job_runs.c.holder == holder)
        .values(
            holder=None,
            lease_until=0,
            last_finished_at=now,
            runs=job_runs.c.runs + 1,
            last_result=json.dumps(result) if result is not None else None,
            last_error=error,
        )
    )


async def all_runs(conn: AsyncConnection) -> dict[str, JobRunRow]:
    rows = await conn.execute(job_runs.select().order_by(job_runs.c.name))
    return {
        r.name: JobRunRow(
            r.name,
            r.holder,
            r.lease_until,
            r.last_started_at,
            r.last_finished_at,
            json.loads(r.last_result) if r.last_result else None,
            r.last_error,
            r.runs,
        )
        for r in rows
    }


async def audit(
    conn: AsyncConnection, job: str, room_id: str | None, action: str, count: int, at: int
) -> None:
    await conn.execute(
        retention_audit.insert().values(job=job, room_id=room_id, action=action, count=count, at=at)
    )


async def audit_log(conn: AsyncConnection, since: int = 0, limit: int = 1000) -> list[AuditRow]:
    rows = await conn.execute(
        sa.select(retention_audit)
        .where(retention_audit.c.at >= since)
        .order_by(retention_audit.c.id)
        .limit(limit)
    )
    return [AuditRow(r.job, r.room_id, r.action, r._mapping["count"], r.at) for r in rows]
