"""The Matrix recovery key ("Sicherheitsschlüssel"): 32 bytes, shown as base58 in groups of four.

Encoding (client-server spec, "Key representation"): 0x8B 0x01, the 32 key bytes, then a parity
byte (XOR of all bytes before it), base58 with the Bitcoin alphabet. Sans I/O.
"""

from __future__ import annotations

from functools import reduce

from messenger.export.errors import ExportError

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_PREFIX = bytes([0x8B, 0x01])


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = _ALPHABET.find(char)
        if digit < 0:
            raise ExportError(f"recovery key: '{char}' is not a character of a recovery key")
        number = number * 58 + digit
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + body


def _b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits = ""
    while number:
        number, digit = divmod(number, 58)
        digits = _ALPHABET[digit] + digits
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + digits


def decode_recovery_key(text: str) -> bytes:
    """The 32 key bytes of a recovery key as the user typed it (spaces allowed)."""
    raw = _b58decode("".join(text.split()))
    if len(raw) != len(_PREFIX) + 32 + 1 or not raw.startswith(_PREFIX):
        raise ExportError("recovery key: not a recovery key (wrong length or prefix)")
    if reduce(lambda a, b: a ^ b, raw) != 0:
        raise ExportError("recovery key: mistyped (its check digit does not match)")
    return raw[len(_PREFIX) : -1]


def encode_recovery_key(key: bytes) -> str:
    """The form a client shows: base58 in groups of four."""
    raw = _PREFIX + key
    raw += bytes([reduce(lambda a, b: a ^ b, raw)])
    encoded = _b58encode(raw)
    return " ".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))
