"""A patient's coverage end, as data: the end date, which warning is due, the end job's steps.
Sans I/O."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

REASONS = ("insurer-change", "other")
DEFAULT_REASON = "insurer-change"
# the end job's steps in order; `step` holds the next one to do (resumable after a crash)
SCHEDULED, REQUESTS, ROOMS, ACCOUNT, RECORDS, DONE = (
    "scheduled", "requests", "rooms", "account", "records", "done"
)  # fmt: skip
STEPS = (REQUESTS, ROOMS, ACCOUNT, RECORDS, DONE)


class CoverageInputError(ValueError):
    """Bad input for a coverage end; the message names the field and what is allowed."""


def parse_end_date(value: str, today: date, field: str = "--on") -> date:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise CoverageInputError(f"{field}: {value!r} is not a date (YYYY-MM-DD)") from None
    if day < today:
        raise CoverageInputError(f"{field}: {day.isoformat()} is in the past (today is {today})")
    return day


def parse_reason(value: str | None, field: str = "--reason") -> str:
    reason = (value or DEFAULT_REASON).strip().lower()
    if reason not in REASONS:
        raise CoverageInputError(f"{field}: {value!r}; allowed are {', '.join(REASONS)}")
    return reason


def warned_days(text: str) -> set[int]:
    return {int(part) for part in text.split(",") if part.strip().isdigit()}


def warned_text(days: Iterable[int]) -> str:
    return ",".join(str(day) for day in sorted(set(days), reverse=True))


def warning_due(
    end_on: date, today: date, warn_days: Iterable[int], warned: set[int]
) -> int | None:
    """The warning to send today, if any: the nearest configured point (days before the end)
    that has been reached and not sent. Points passed without a warning (an end set at short
    notice, or a day the job did not run) are covered by that one warning, not sent in a row."""
    left = (end_on - today).days
    if left <= 0:
        return None
    reached = [day for day in warn_days if left <= day]
    if not reached or min(reached) in warned:
        return None
    return min(reached)


def covered_by(point: int, warn_days: Iterable[int]) -> set[int]:
    """The points a warning `point` days before the end stands for (it and all earlier)."""
    return {day for day in warn_days if day >= point}


def is_due(end_on: date, today: date) -> bool:
    return today >= end_on
