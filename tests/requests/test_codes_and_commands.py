"""Access codes and the chat-request commands, sans I/O."""

from __future__ import annotations

import pytest

from messenger.bots.commands import parse_command
from messenger.requests.codes import ALPHABET, CodeFormatError, code_hash, new_code, normalise


def test_codes_are_readable_and_typing_variants_match() -> None:
    code = new_code()
    assert len(code) == 9 and code[4] == "-"
    assert all(c in ALPHABET for c in code.replace("-", ""))
    assert normalise(code.lower().replace("-", " ")) == code.replace("-", "")
    assert code_hash("k", normalise(code)) == code_hash("k", code.replace("-", ""))
    assert code_hash("k", "ABCD2345") != code_hash("other key", "ABCD2345")


@pytest.mark.parametrize("typed", ["", "ABC", "ABCD-23450", "ABCD-1234", "ÄBCD-2345"])
def test_malformed_codes_say_what_a_code_looks_like(typed: str) -> None:
    with pytest.raises(CodeFormatError, match="8 Zeichen"):
        normalise(typed)


def test_request_commands() -> None:
    request = parse_command("anfragen 3 Rückenschmerzen seit Montag")
    assert (request.name, request.argument, request.detail) == (
        "request",
        "3",
        "Rückenschmerzen seit Montag",
    )
    assert parse_command("request 2").name == "request"
    assert parse_command("anfragen").name == "requests"
    assert parse_command("anfragen ja").name == "accepting"  # a practice's setting
    assert (parse_command("zurückziehen #12").name, parse_command("withdraw 12").argument) == (
        "withdraw",
        "12",
    )
    assert parse_command("code").name == "code"
    assert parse_command("code abcd-2345").argument == "abcd-2345"
