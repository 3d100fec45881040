"""Parsing the directory CSV. Sans I/O.

Header (UTF-8, comma-separated, first line), documented in docs/directory.md:
    id,matrix_id,name,specialty,street,postcode,city,visible,active
`id` is unique within the file; `specialty` may hold several, separated by `;`;
`visible` and `active` are ja/nein, yes/no, true/false or 1/0 (default: ja).
"""

from __future__ import annotations

import csv
import io
import re

from messenger.directory.matrix_address import BadMatrixAddress, parse_matrix_address
from messenger.directory.records import Parsed, ProviderRecord, Rejected

REQUIRED = ("id", "matrix_id", "name")
COLUMNS = (
    "id",
    "matrix_id",
    "name",
    "specialty",
    "street",
    "postcode",
    "city",
    "visible",
    "active",
)
_TRUE = {"ja", "yes", "true", "1", "j", "y", ""}
_FALSE = {"nein", "no", "false", "0", "n"}
_POSTCODE = re.compile(r"^[0-9]{5}$")


def _flag(value: str, column: str) -> bool:
    folded = value.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ValueError(f"{column}: {value!r} is not ja/nein, yes/no, true/false or 1/0")


def parse_csv(text: str) -> Parsed:
    parsed = Parsed()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in REQUIRED if column not in header]
    unknown = [column for column in header if column not in COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        parsed.fatal = f"line 1: {'; '.join(parts)}; the header is {','.join(COLUMNS)}"
        return parsed
    seen: set[str] = set()
    for row in reader:
        where = f"line {reader.line_num}"
        values = {key.strip(): (value or "").strip() for key, value in row.items() if key}
        try:
            record = _row(values)
        except ValueError as error:
            parsed.rejected.append(Rejected(where, str(error)))
            continue
        if record.source_ref in seen:
            parsed.rejected.append(Rejected(where, f"id: {record.source_ref!r} appears twice"))
            continue
        seen.add(record.source_ref)
        parsed.records.append(record)
    return parsed


def _row(values: dict[str, str]) -> ProviderRecord:
    for column in REQUIRED:
        if not values.get(column):
            raise ValueError(f"{column}: must not be empty")
    try:
        matrix_id = parse_matrix_address(values["matrix_id"])
    except BadMatrixAddress as error:
        raise ValueError(f"matrix_id: {error}") from None
    postcode = values.get("postcode", "")
    if postcode and not _POSTCODE.match(postcode):
        raise ValueError(f"postcode: {postcode!r} is not five digits")
    specialties = tuple(s.strip() for s in values.get("specialty", "").split(";") if s.strip())
    return ProviderRecord(
        source_ref=values["id"],
        matrix_id=matrix_id,
        name=values["name"],
        specialties=specialties,
        street=values.get("street", ""),
        postcode=postcode,
        city=values.get("city", ""),
        hidden=not _flag(values.get("visible", ""), "visible"),
        active=_flag(values.get("active", ""), "active"),
    )
