"""Parsing leave-prompt thresholds and bot commands, and month arithmetic. Pure logic."""

from __future__ import annotations

import datetime as dt

import pytest

from messenger.bots.commands import parse_command
from messenger.retention.calendar import BERLIN, months_before
from messenger.retention.thresholds import (
    Threshold,
    ThresholdError,
    parse_threshold,
    threshold_from_account_data,
)


@pytest.mark.parametrize(
    ("typed", "months"),
    [("3 monate", 3), ("12 Monate", 12), ("1 monat", 1), ("60", 60), ("6 months", 6),
     ("aus", None), ("off", None)],
)  # fmt: skip
def test_thresholds_people_type(typed: str, months: int | None) -> None:
    assert parse_threshold(typed) == Threshold(months)


@pytest.mark.parametrize("typed", ["0 monate", "61 monate", "-3", "drei monate", "3 jahre", ""])
def test_thresholds_out_of_range_or_garbled_are_refused(typed: str) -> None:
    with pytest.raises(ThresholdError):
        parse_threshold(typed)


@pytest.mark.parametrize("content", [{}, {"months": 0}, {"months": 61}, {"months": "6"},
                                     {"months": True}, {"months": 2.5}, [], "6"])  # fmt: skip
def test_account_data_must_hold_months_1_to_60_or_null(content: object) -> None:
    with pytest.raises(ThresholdError):
        threshold_from_account_data(content)
    assert threshold_from_account_data({"months": 7}) == Threshold(7)
    assert threshold_from_account_data({"months": None}) == Threshold(None)


def test_leave_commands_parse() -> None:
    assert parse_command("verlassen 2") == parse_command("Verlassen #2")
    assert parse_command("verlassen 2").name == "leave"
    assert parse_command("verlassen 2 3").argument == "2 3"
    assert parse_command("alle verlassen").argument == "all"
    assert parse_command("leave all").argument == "all"
    assert parse_command("behalten 1").name == "keep"
    assert parse_command("keep 1").language_hint == "en"
    assert parse_command("frist 3 monate").name == "threshold"
    assert parse_command("frist").argument == ""
    assert parse_command("verlassen").name == "unknown"
    assert parse_command("verlassen zwei").name == "unknown"
    assert parse_command("behalten 0").name == "unknown"


def test_months_before_follows_the_calendar() -> None:
    def at(*args: int) -> int:
        return int(dt.datetime(*args, tzinfo=BERLIN).timestamp() * 1000)

    assert months_before(at(2026, 11, 22, 9), 6) == at(2026, 5, 22, 9)
    assert months_before(at(2026, 8, 31, 12), 6) == at(2026, 2, 28, 12)
    assert months_before(at(2026, 1, 15), 12) == at(2025, 1, 15)
    assert months_before(at(2026, 3, 1), 60) == at(2021, 3, 1)
