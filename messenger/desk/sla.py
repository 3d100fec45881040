"""The first-response clock: due times on a 24/7 or a business-hours calendar with public
holidays, and the reminder points before them. Sans I/O.

The clock of a ticket runs from the patient's first unanswered message to the first reply
the patient can see; while the ticket waits for the patient (answered), it is stopped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3660  # a calendar that never reaches the due time within 10 years is refused


class CalendarError(ValueError):
    pass


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class SlaCalendar:
    """Working time: all of it (24/7), or periods per weekday minus holidays, in one zone."""

    def __init__(
        self,
        hours: Mapping[str, Iterable[str]] | None,
        holidays: Iterable[str] = (),
        timezone: str = "Europe/Berlin",
    ) -> None:
        self._zone = ZoneInfo(timezone)
        self._holidays = {dt.date.fromisoformat(day) for day in holidays}
        self._periods: dict[int, list[tuple[int, int]]] | None = None
        if hours is not None:
            self._periods = {
                WEEKDAYS.index(day): sorted(
                    (_minutes(p.split("-")[0]), _minutes(p.split("-")[1])) for p in periods
                )
                for day, periods in hours.items()
            }
            if not any(self._periods.values()):
                raise CalendarError("business hours need at least one working period")

    @property
    def always_open(self) -> bool:
        return self._periods is None

    def _day_periods(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        assert self._periods is not None
        if day in self._holidays:
            return []
        midnight = dt.datetime(day.year, day.month, day.day, tzinfo=self._zone)
        return [  # in UTC: arithmetic on aware datetimes of one zone ignores DST changes
            (_at(midnight, start).astimezone(dt.UTC), _at(midnight, end).astimezone(dt.UTC))
            for start, end in self._periods.get(day.weekday(), [])
        ]

    def add(self, start_ms: int, duration_ms: int) -> int:
        """The instant `duration_ms` of working time after `start_ms`."""
        if self._periods is None:
            return start_ms + duration_ms
        cursor = dt.datetime.fromtimestamp(start_ms / 1000, dt.UTC)
        remaining = dt.timedelta(milliseconds=duration_ms)
        day = cursor.astimezone(self._zone).date()
        for _ in range(MAX_DAYS):
            for begin, end in self._day_periods(day):
                begin = max(begin, cursor)
                if begin >= end:
                    continue
                if remaining <= end - begin:
                    return int((begin + remaining).timestamp() * 1000)
                remaining -= end - begin
            day += dt.timedelta(days=1)
        raise CalendarError("the calendar has no working time in the next ten years")


def _at(midnight: dt.datetime, minutes: int) -> dt.datetime:
    """Wall-clock minutes after local midnight (24:00 is the next midnight), DST-aware."""
    day = midnight.date() + dt.timedelta(days=minutes // 1440)
    hour, minute = divmod(minutes % 1440, 60)
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=midnight.tzinfo)


@dataclass(frozen=True)
class Clock:
    started_at: int
    due_at: int
    next_reminder_at: int | None


def start_clock(
    calendar: SlaCalendar, started_at: int, sla_ms: int, remind_at: tuple[float, ...]
) -> Clock:
    due = calendar.add(started_at, sla_ms)
    return Clock(started_at, due, reminder_after(calendar, started_at, sla_ms, remind_at, 0))


def reminder_after(
    calendar: SlaCalendar, started_at: int, sla_ms: int, remind_at: tuple[float, ...], sent: int
) -> int | None:
    """When the reminder after the first `sent` ones is due (None: no more reminders)."""
    if sent >= len(remind_at):
        return None
    return calendar.add(started_at, int(sla_ms * remind_at[sent]))
