"""KVNR validation: format and check digit, with a reason that never echoes the number."""

from __future__ import annotations

import pytest

from messenger.kvnr import InvalidKVNR, check_digit, kvnr_digest, parse_kvnr


@pytest.mark.parametrize("valid", ["A123456780", "a123456780", " A123456780 "])
def test_valid_kvnr_is_normalised(valid: str) -> None:
    assert parse_kvnr(valid) == "A123456780"


def test_check_digit_follows_the_weighting_rule() -> None:
    # Z=26 -> digits 2,6 then 00000000: 2*1 + 6*2=12->3 -> 5
    assert check_digit("Z", "00000000") == 5
    assert parse_kvnr("Z000000005") == "Z000000005"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("A123456781", "check digit"),
        ("A12345678", "10 characters"),
        ("1234567890", "one letter"),
        ("AB23456780", "one letter"),
        ("", "10 characters"),
    ],
)
def test_bad_kvnr_is_refused_with_reason(bad: str, reason: str) -> None:
    with pytest.raises(InvalidKVNR) as caught:
        parse_kvnr(bad)
    assert reason in str(caught.value)
    if bad:
        assert bad not in str(caught.value)


def test_digest_is_keyed_and_stable() -> None:
    kvnr = parse_kvnr("A123456780")
    assert kvnr_digest(kvnr, b"k1") == kvnr_digest(kvnr, b"k1")
    assert kvnr_digest(kvnr, b"k1") != kvnr_digest(kvnr, b"k2")
    assert "A123456780" not in kvnr_digest(kvnr, b"k1")
