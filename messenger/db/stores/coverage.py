"""Coverage ends: one row per patient whose access ends (scheduled, warned, the end job's step)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.schema import coverage_ends


@dataclass(frozen=True)
class CoverageEndRow:
    user_id: str
    end_on: str
    reason: str
    requested_at: int
    cancelled_at: int | None
    warned: str
    step: str
    started_at: int | None
    finished_at: int | None

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _rows(result: Any) -> list[CoverageEndRow]:
    return [CoverageEndRow(**dict(row._mapping)) for row in result]


async def get(conn: AsyncConnection, user_id: str) -> CoverageEndRow | None:
    found = _rows(
        await conn.execute(coverage_ends.select().where(coverage_ends.c.user_id == user_id))
    )
    return found[0] if found else None


async def put(conn: AsyncConnection, user_id: str, end_on: str, reason: str, at: int) -> None:
    """Schedule (or re-schedule before it started, or un-cancel) a coverage end."""
    if await get(conn, user_id) is None:
        await conn.execute(coverage_ends.insert().values(
            user_id=user_id, end_on=end_on, reason=reason, requested_at=at, warned="",
            step="scheduled",
        ))  # fmt: skip
        return
    await conn.execute(
        coverage_ends.update().where(coverage_ends.c.user_id == user_id)
        .values(end_on=end_on, reason=reason, requested_at=at, cancelled_at=None, warned="")
    )  # fmt: skip


async def update(conn: AsyncConnection, user_id: str, **values: Any) -> None:
    await conn.execute(
        coverage_ends.update().where(coverage_ends.c.user_id == user_id).values(**values)
    )


async def active(conn: AsyncConnection, limit: int = 500) -> list[CoverageEndRow]:
    """Scheduled or half-done ends, not cancelled."""
    return _rows(await conn.execute(
        coverage_ends.select()
        .where(coverage_ends.c.cancelled_at.is_(None), coverage_ends.c.step != "done")
        .order_by(coverage_ends.c.end_on, coverage_ends.c.user_id).limit(limit)
    ))  # fmt: skip
