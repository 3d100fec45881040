"""Krankenversichertennummer (KVNR): the unchangeable part of the German health insurance number.

Format: one capital letter A-Z, eight digits, one check digit. The check digit is computed over the
letter's two-digit position in the alphabet (A=01 ... Z=26) followed by the eight digits, with the
weights 1,2,1,2,...; two-digit products count as their digit sum; the check digit is the sum mod 10.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import NewType

KVNR = NewType("KVNR", str)

_SHAPE = re.compile(r"^[A-Z][0-9]{9}$")


class InvalidKVNR(ValueError):
    """A KVNR that is not well-formed or whose check digit is wrong. The message says which."""


def check_digit(letter: str, eight_digits: str) -> int:
    digits = f"{ord(letter) - ord('A') + 1:02d}{eight_digits}"
    total = 0
    for index, char in enumerate(digits):
        product = int(char) * (1 if index % 2 == 0 else 2)
        total += product // 10 + product % 10
    return total % 10


def parse_kvnr(raw: str) -> KVNR:
    """Return the normalised KVNR or raise InvalidKVNR saying what is wrong (never echoing it)."""
    value = raw.strip().upper()
    if len(value) != 10:
        raise InvalidKVNR(
            f"a KVNR has 10 characters (one letter and nine digits), this one has {len(value)}"
        )
    if not _SHAPE.match(value):
        raise InvalidKVNR(
            "a KVNR is one letter A-Z followed by nine digits (for example A123456780)"
        )
    expected = check_digit(value[0], value[1:9])
    if int(value[9]) != expected:
        raise InvalidKVNR("the check digit (last digit) of the KVNR does not match")
    return KVNR(value)


def kvnr_digest(kvnr: KVNR, key: bytes) -> str:
    """Keyed hash under which a KVNR is stored: lookups work, the number itself is never stored."""
    return hmac.new(key, kvnr.encode("ascii"), hashlib.sha256).hexdigest()
