"""Matrix IDs as they appear in directory data (gematik VZD `Endpoint.address` and variants)."""

from __future__ import annotations

import re
from urllib.parse import unquote

_MXID = re.compile(r"^@[a-z0-9._=/+\-]+:[A-Za-z0-9.\-]+(:[0-9]{1,5})?$")


class BadMatrixAddress(ValueError):
    pass


def parse_matrix_address(raw: str) -> str:
    """`matrix:u/<localpart>:<domain>`, `matrix:user/…`, percent-encoded `:`, or a bare MXID."""
    value = unquote(raw.strip())
    for prefix in ("matrix:u/", "matrix:user/", "matrix://u/", "matrix://user/"):
        if value.lower().startswith(prefix):
            value = "@" + value[len(prefix) :]
            break
    value = value.split("?", 1)[0]
    if not _MXID.match(value):
        raise BadMatrixAddress(f"not a Matrix user address: {raw!r}")
    return value
