"""One-time access codes a practice hands to a patient, sans I/O.

Eight characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown as ABCD-2345:
about 10^12 codes, and wrong guesses are limited per patient. Only a keyed hash is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 8
_SHAPE = re.compile(rf"^[{ALPHABET}]{{{LENGTH}}}$")


class CodeFormatError(ValueError):
    """What was typed is not shaped like a code; the message says what a code looks like."""


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise(typed: str) -> str:
    """'abcd 2345', 'ABCD-2345' -> 'ABCD2345'; CodeFormatError if it cannot be a code."""
    cleaned = re.sub(r"[\s\-]", "", typed).upper()
    if not _SHAPE.match(cleaned):
        raise CodeFormatError(
            "Ein Code hat 8 Zeichen (Buchstaben und Ziffern 2–9), z. B. ABCD-2345. / "
            "A code has 8 characters (letters and digits 2-9), e.g. ABCD-2345."
        )
    return cleaned


def code_hash(key: str, normalised: str) -> str:
    return hmac.new(key.encode(), b"access-code:" + normalised.encode(), hashlib.sha256).hexdigest()
