"""Desk figures for `messenger desk stats` and the Prometheus metrics: open tickets by topic and
age, the share answered within the SLA, first-response time (median, p90), breaches. The
figures are computed from ticket rows (sans I/O); DeskStats reads the rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from messenger.db.database import Database
from messenger.db.stores import desk as store
from messenger.db.stores.desk import ACTIVE, TicketRow

AGE_BUCKETS = ((3_600_000, "<1h"), (4 * 3_600_000, "1-4h"), (24 * 3_600_000, "4-24h"))
OLDER = ">24h"


def _quantile(sorted_values: list[int], q: float) -> int | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def age_bucket(age_ms: int) -> str:
    for limit, name in AGE_BUCKETS:
        if age_ms < limit:
            return name
    return OLDER


@dataclass
class DeskReport:
    since_ms: int
    now_ms: int
    opened: int = 0
    open_by_topic: dict[str, dict[str, int]] = field(default_factory=dict)
    open_total: int = 0
    answered: int = 0
    answered_within_sla: int = 0
    share_within_sla: float | None = None
    first_response_median_s: float | None = None
    first_response_p90_s: float | None = None
    breaches: int = 0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def report(rows: Iterable[TicketRow], now: int, since: int) -> DeskReport:
    result = DeskReport(since_ms=since, now_ms=now)
    response_times: list[int] = []
    judged = 0
    for ticket in rows:
        if ticket.status in ACTIVE:
            bucket = age_bucket(now - ticket.created_at)
            by_age = result.open_by_topic.setdefault(ticket.topic or "-", {})
            by_age[bucket] = by_age.get(bucket, 0) + 1
            result.open_total += 1
        if ticket.opened_at is None or ticket.opened_at < since:
            continue
        result.opened += 1
        if ticket.breached_at is not None:
            result.breaches += 1
        if ticket.first_response_at is not None:
            result.answered += 1
            response_times.append(ticket.first_response_at - ticket.created_at)
            if ticket.first_due_at is None or ticket.first_response_at <= ticket.first_due_at:
                result.answered_within_sla += 1
            judged += 1
        elif ticket.first_due_at is not None and ticket.first_due_at < now:
            judged += 1  # overdue and unanswered: counts against the share
    if judged:
        result.share_within_sla = round(result.answered_within_sla / judged, 4)
    response_times.sort()
    median, p90 = _quantile(response_times, 0.5), _quantile(response_times, 0.9)
    result.first_response_median_s = None if median is None else median / 1000
    result.first_response_p90_s = None if p90 is None else p90 / 1000
    return result


class DeskStats:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def report(self, now: int, since: int) -> DeskReport:
        async with self._db.reading() as conn:
            rows = await store.tickets_for_stats(conn, since)
        return report(rows, now, since)
