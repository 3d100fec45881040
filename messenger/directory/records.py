"""A provider as imported, and the result of parsing a source. Sans I/O."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class ProviderRecord:
    source_ref: str  # resource id (FHIR) or `id` column (CSV), unique within a source
    matrix_id: str
    name: str
    specialties: tuple[str, ...]
    street: str
    postcode: str
    city: str
    hidden: bool  # hide-versicherte: never shown to patients
    active: bool  # endpoint status active (off = not reachable)

    def content_hash(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Rejected:
    where: str  # "line 7" or "HealthcareService/abc"
    reason: str


@dataclass
class Parsed:
    records: list[ProviderRecord] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    fatal: str | None = None  # the file as a whole is unusable: nothing may be changed
