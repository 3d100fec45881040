"""Handler: the provider directory as patients, practices, operators and bots search it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.database import Database, now_ms
from messenger.db.stores import directory as store
from messenger.db.stores.directory import MatchGroups, ProviderRow
from messenger.directory.query import DirectoryQuery
from messenger.directory.text import TYPO_MIN_LENGTH, deletes, within_one_edit


class ProviderDirectory:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def search(self, query: DirectoryQuery) -> list[ProviderRow]:
        """Prefix match on every word (synonyms are in the index); if that finds nothing, words
        of 5+ letters also match terms one typo away."""
        groups: MatchGroups = [[(word, True)] for word in query.words]
        specialty = [(query.specialty, True)] if query.specialty else None
        async with self._db.transaction() as conn:
            found = await self._run(conn, query, groups, specialty)
            if found or not any(len(w) >= TYPO_MIN_LENGTH for w in query.words):
                return found
            fuzzy: MatchGroups = []
            for word in query.words:
                group = [(word, True)]
                if len(word) >= TYPO_MIN_LENGTH:
                    candidates = await store.terms_for_variants(conn, deletes(word) | {word})
                    group += [
                        (term, False) for term in sorted(candidates) if within_one_edit(word, term)
                    ]
                fuzzy.append(group)
            return await self._run(conn, query, fuzzy, specialty)

    async def _run(
        self,
        conn: AsyncConnection,
        query: DirectoryQuery,
        groups: MatchGroups,
        specialty: list[tuple[str, bool]] | None,
    ) -> list[ProviderRow]:
        return await store.search(
            conn,
            groups,
            specialty=specialty,
            postcode_prefix=query.postcode_prefix,
            city=query.city,
            include_hidden=query.include_hidden,
            limit=query.limit,
            offset=query.offset,
        )

    async def get(self, provider_id: int) -> ProviderRow | None:
        async with self._db.transaction() as conn:
            return await store.get(conn, provider_id)

    async def entries_of(self, matrix_id: str) -> list[ProviderRow]:
        async with self._db.transaction() as conn:
            return await store.by_matrix_id(conn, matrix_id)

    async def set_practice_settings(
        self, matrix_id: str, *, listed: bool | None = None, accepting: bool | None = None
    ) -> list[ProviderRow]:
        async with self._db.transaction() as conn:
            await store.set_settings(
                conn, matrix_id, listed=listed, accepting=accepting, at=now_ms()
            )
            return await store.by_matrix_id(conn, matrix_id)

    async def count(self) -> int:
        async with self._db.transaction() as conn:
            return await store.count(conn)
