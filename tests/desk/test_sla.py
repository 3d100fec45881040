"""The SLA clock on 24/7 and on a business-hours calendar with a weekend, a holiday and a
change of daylight-saving time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from messenger.desk.sla import SlaCalendar, reminder_after, start_clock

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3_600_000
WEEKDAYS = {day: ("08:00-12:00", "13:00-17:00") for day in ("mon", "tue", "wed", "thu", "fri")}


def at(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=BERLIN).timestamp() * 1000)


def shown(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, BERLIN).strftime("%Y-%m-%d %H:%M")


def test_around_the_clock_is_plain_addition() -> None:
    calendar = SlaCalendar(None)
    start = at("2026-12-04T18:30")  # a Friday evening: due on Saturday evening
    assert shown(calendar.add(start, 24 * HOUR)) == "2026-12-05 18:30"


def test_business_hours_skip_the_night_lunch_and_weekend() -> None:
    calendar = SlaCalendar(WEEKDAYS)
    # Friday 16:00: one hour left on Friday, then Monday 8-12 (4 h), 13-17 (4 h), Tuesday ...
    due = calendar.add(at("2026-12-04T16:00"), 24 * HOUR)
    assert shown(due) == "2026-12-09 16:00"  # 1 (Fri) + 8 (Mon) + 8 (Tue) + 7 (Wed 8-12, 13-16)
    assert shown(calendar.add(at("2026-12-04T16:00"), 1 * HOUR)) == "2026-12-04 17:00"
    assert shown(calendar.add(at("2026-12-04T16:30"), 1 * HOUR)) == "2026-12-07 08:30"
    assert shown(calendar.add(at("2026-12-07T11:30"), 1 * HOUR)) == "2026-12-07 13:30"


def test_a_message_at_night_starts_counting_at_opening_time() -> None:
    calendar = SlaCalendar(WEEKDAYS)
    assert shown(calendar.add(at("2026-12-08T22:00"), 2 * HOUR)) == "2026-12-09 10:00"
    assert shown(calendar.add(at("2026-12-12T10:00"), 2 * HOUR)) == "2026-12-14 10:00"  # Sat


def test_holidays_are_closed_all_day() -> None:
    calendar = SlaCalendar(WEEKDAYS, holidays=["2026-12-24", "2026-12-25"])
    # Wednesday 23rd 16:00 + 2 h: 1 h on the 23rd, the 24th and 25th closed, weekend closed
    assert shown(calendar.add(at("2026-12-23T16:00"), 2 * HOUR)) == "2026-12-28 09:00"


def test_working_time_follows_the_wall_clock_across_daylight_saving() -> None:
    calendar = SlaCalendar({"sun": ("00:00-24:00",), "mon": ("08:00-17:00",)})
    # 29 March 2026: clocks go from 02:00 to 03:00, so that Sunday has 23 working hours
    assert shown(calendar.add(at("2026-03-29T00:00"), 24 * HOUR)) == "2026-03-30 09:00"


def test_reminders_at_fractions_of_the_sla_on_the_same_calendar() -> None:
    calendar = SlaCalendar(WEEKDAYS)
    clock = start_clock(calendar, at("2026-12-07T08:00"), 8 * HOUR, (0.5, 0.75))
    assert shown(clock.due_at) == "2026-12-07 17:00"
    assert (
        clock.next_reminder_at is not None and shown(clock.next_reminder_at) == "2026-12-07 12:00"
    )
    second = reminder_after(calendar, clock.started_at, 8 * HOUR, (0.5, 0.75), 1)
    assert second is not None and shown(second) == "2026-12-07 15:00"  # 4 h + 2 h, after lunch
    assert reminder_after(calendar, clock.started_at, 8 * HOUR, (0.5, 0.75), 2) is None
