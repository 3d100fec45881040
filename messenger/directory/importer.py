"""Handler: import a parsed source into the directory, all or nothing.

One database transaction per import: rows of the same source that are new are added, changed ones
updated (by content hash), ones that disappeared from the source removed; the full-text index and
the typo vocabulary follow in the same transaction. Rejected records are reported, never written.
Practice settings (listed / accepting) are keyed by Matrix ID and survive re-imports.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from messenger.db.database import Database, now_ms
from messenger.db.stores import directory as store
from messenger.directory.records import Parsed, ProviderRecord, Rejected
from messenger.directory.text import (
    INDEX_VERSION,
    VOCABULARY_MIN_LENGTH,
    deletes,
    fold,
    with_synonyms,
    words,
)

Progress = Callable[[int], None]


@dataclass
class ImportSummary:
    source: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "rejected": [{"where": r.where, "reason": r.reason} for r in self.rejected],
        }


def indexed_hash(record: ProviderRecord) -> str:
    """The record's content and the index version: an entry is rewritten when either changed."""
    return hashlib.sha256(f"{record.content_hash()}|{INDEX_VERSION}".encode()).hexdigest()


def document(record: ProviderRecord) -> tuple[str, str, str]:
    """What the full-text index holds: folded name; specialties with synonyms; place."""
    specialty_words = with_synonyms([w for s in record.specialties for w in words(s)])
    return fold(record.name), " ".join(specialty_words), fold(f"{record.city} {record.postcode}")


def vocabulary(docs: list[tuple[str, str, str]]) -> set[tuple[str, str]]:
    """(variant, term) pairs so that a query word one edit away finds the term."""
    pairs: set[tuple[str, str]] = set()
    for doc in docs:
        for term in " ".join(doc).split():
            if len(term) >= VOCABULARY_MIN_LENGTH and not term.isdigit():
                pairs.add((term, term))
                pairs.update((variant, term) for variant in deletes(term))
    return pairs


class ImportRefused(Exception):
    """The import would do harm or cannot be done; nothing was changed. The message says why."""


class DirectoryImport:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def run(
        self,
        source: str,
        parsed: Parsed,
        progress: Progress | None = None,
        *,
        allow_empty: bool = False,
    ) -> ImportSummary:
        if parsed.fatal:
            raise ImportRefused(f"{parsed.fatal}; nothing was imported or removed")
        if not source.strip() or len(source) > 100:
            raise ImportRefused("--source: a name of 1 to 100 characters")
        summary = ImportSummary(source=source, rejected=list(parsed.rejected))
        tick = progress or (lambda _n: None)
        at = now_ms()
        async with self._db.transaction() as conn:
            existing = await store.existing_for_source(conn, source)
            if existing and not parsed.records and not allow_empty:
                raise ImportRefused(
                    f"no usable record in this file, which would remove all {len(existing)} "
                    f"entries of source {source!r}; pass --allow-empty if that is intended"
                )
            next_id = await store.next_id(conn)
            inserts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            docs: list[tuple[int, str, str, str]] = []
            for record in parsed.records:
                known = existing.pop(record.source_ref, None)
                digest = indexed_hash(record)
                if known is not None and known[1] == digest:
                    summary.unchanged += 1
                    continue
                row_id = known[0] if known else next_id
                if known is None:
                    next_id += 1
                row = _row(row_id, source, record, digest, at)
                (updates if known else inserts).append(row)
                docs.append((row_id, *document(record)))
            tick(len(parsed.records) // 2)
            removed = [row_id for row_id, _digest in existing.values()]
            await store.insert_providers(conn, inserts)
            await store.update_providers(conn, updates)
            await store.delete_providers(conn, removed)
            await store.replace_documents(conn, removed, docs)
            await store.add_terms(conn, vocabulary([doc[1:] for doc in docs]))
            await store.add_name_terms(conn, {w for doc in docs for w in doc[1].split()})
            tick(len(parsed.records) - len(parsed.records) // 2)
        if inserts or updates or removed:
            async with self._db.transaction() as conn:
                await store.analyze(conn)
        summary.added, summary.updated, summary.removed = len(inserts), len(updates), len(removed)
        return summary


def _row(row_id: int, source: str, record: ProviderRecord, digest: str, at: int) -> dict[str, Any]:
    return {
        "id": row_id,
        "source": source,
        "source_ref": record.source_ref,
        "matrix_id": record.matrix_id,
        "name": record.name,
        "specialties": "; ".join(record.specialties),
        "street": record.street,
        "postcode": record.postcode,
        "city": record.city,
        "city_folded": fold(record.city),
        "hidden": record.hidden,
        "active": record.active,
        "content_hash": digest,
        "updated_at": at,
    }
