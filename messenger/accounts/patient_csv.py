"""Bulk provisioning: patients from a CSV file (header kvnr,display_name[,email][,idp_subject];
comma or semicolon; UTF-8, a BOM allowed), each row through the same idempotent provisioning as
the API — a bad row is reported with its line and reason and the others go on."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from messenger.accounts.handler import AccountHandler, AccountInputError, api_words
from messenger.ids import Role

REQUIRED = ("kvnr", "display_name")
OPTIONAL = ("email", "idp_subject")


class PatientCsvError(ValueError):
    """The file as a whole cannot be read (no header, a missing column); nothing was done."""


@dataclass(frozen=True)
class PatientRow:
    line: int
    kvnr: str
    display_name: str
    email: str | None
    idp_subject: str | None


def read_patient_csv(path: Path) -> list[PatientRow]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise PatientCsvError(f"{path.name}: not UTF-8 text") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise PatientCsvError(
            f"{path.name}: header must name {', '.join(REQUIRED)} (optional: "
            f"{', '.join(OPTIONAL)}); missing {', '.join(missing)}"
        )
    reader.fieldnames = header
    rows = []
    for record in reader:
        values = {k: (v or "").strip() for k, v in record.items() if k is not None}
        if not any(values.values()):
            continue  # blank line
        rows.append(PatientRow(reader.line_num, values.get("kvnr", ""),
                               values.get("display_name", ""), values.get("email") or None,
                               values.get("idp_subject") or None))  # fmt: skip
    return rows


async def provision_row(handler: AccountHandler, row: PatientRow) -> dict[str, object]:
    report: dict[str, object] = {"line": row.line}
    if not row.kvnr:
        return {**report, "result": "rejected", "reason": "kvnr: empty"}
    try:
        account = await handler.add(
            role=Role.PATIENT, display_name=row.display_name, kvnr=row.kvnr, email=row.email,
            idp_subject=row.idp_subject,
        )  # fmt: skip
    except AccountInputError as error:
        return {**report, "result": "rejected", "reason": api_words(str(error))}
    result = "created" if account.created else "existing"
    return {**report, "result": result, "user_id": account.user_id, "warning": account.warning}
