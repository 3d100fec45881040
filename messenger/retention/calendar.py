"""Calendar arithmetic for thresholds given in months. Sans I/O."""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def months_before(now_ms: int, months: int) -> int:
    """The instant `months` calendar months before `now_ms` (Berlin time; the 31st of a month
    becomes the last day of a shorter one)."""
    now = dt.datetime.fromtimestamp(now_ms / 1000, BERLIN)
    total = now.year * 12 + (now.month - 1) - months
    year, month = divmod(total, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    then = now.replace(year=year, month=month + 1, day=day)
    return int(then.timestamp() * 1000)


def local_date(at_ms: int) -> str:
    return dt.datetime.fromtimestamp(at_ms / 1000, BERLIN).strftime("%d.%m.%Y")
