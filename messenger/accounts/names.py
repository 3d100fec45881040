"""Matrix localparts and passwords for new accounts. Sans I/O (randomness aside)."""

from __future__ import annotations

import re
import secrets
import string
import unicodedata

_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (0/o, 1/l/i)
_UMLAUTS = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"}
)


def patient_localpart(prefix: str) -> str:
    """Non-speaking: random, never derived from the name or the KVNR."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(10))


def slug(display_name: str) -> str:
    folded = unicodedata.normalize("NFKD", display_name.translate(_UMLAUTS))
    ascii_only = folded.encode("ascii", "ignore").decode().lower()
    cleaned = re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")
    return cleaned[:40].strip("-") or "konto"


def password(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))
