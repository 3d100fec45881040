"""Coverage end as data: which warning is due, dates and reasons. Pure."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from messenger.accounts import coverage
from messenger.accounts.coverage import CoverageInputError

END = date(2027, 1, 31)
POINTS = (30, 7, 1)


def _sent_over(days: range, start_warned: set[int] | None = None) -> list[int]:
    """Run the daily check over these days-before-the-end; the warnings it sends."""
    warned, sent = set(start_warned or ()), []
    for left in days:
        point = coverage.warning_due(END, END - timedelta(days=left), POINTS, warned)
        if point is not None:
            sent.append(point)
            warned |= coverage.covered_by(point, POINTS)
    return sent


def test_each_warning_once_at_its_day() -> None:
    assert _sent_over(range(45, -1, -1)) == [30, 7, 1]


def test_an_end_set_at_short_notice_gets_one_warning_not_a_burst() -> None:
    assert _sent_over(range(5, -1, -1)) == [7, 1]  # set 5 days ahead: the 7-day one, then 1
    assert _sent_over(range(0, -1, -1)) == []  # the date itself: the end, no warning


def test_a_missed_day_is_caught_up_by_the_next_run() -> None:
    assert _sent_over(range(45, 8, -1)) == [30]
    assert _sent_over(range(6, -1, -1), {30}) == [7, 1]  # the job did not run on day 7


def test_dates_and_reasons_are_checked() -> None:
    today = date(2026, 12, 2)
    assert coverage.parse_end_date("2026-12-02", today) == today
    with pytest.raises(CoverageInputError, match="in the past"):
        coverage.parse_end_date("2026-12-01", today)
    with pytest.raises(CoverageInputError, match=r"--on: '31\.12\.2026' is not a date"):
        coverage.parse_end_date("31.12.2026", today)
    assert coverage.parse_reason(None) == "insurer-change"
    with pytest.raises(CoverageInputError, match="allowed are insurer-change, other"):
        coverage.parse_reason("umzug")
    assert coverage.warned_days(coverage.warned_text([7, 30, 7])) == {7, 30}
