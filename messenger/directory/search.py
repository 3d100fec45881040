"""Handler: the provider directory as patients, practices, operators and bots search it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.database import Database, now_ms
from messenger.db.stores import directory as store
from messenger.db.stores.directory import MatchGroups, MatchSpec, ProviderRow, Terms
from messenger.directory.query import DirectoryQuery
from messenger.directory.text import TYPO_MIN_LENGTH, deletes, within_one_edit

Changed = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


class ProviderDirectory:
    def __init__(self, db: Database, on_change: Changed = _nothing) -> None:
        self._db = db
        self._on_change = on_change  # e.g. tell the Synapse module to refresh visibility

    async def search(self, query: DirectoryQuery) -> list[ProviderRow]:
        """Prefix match on every word (synonyms are in the index). A word of 5+ letters that
        starts no indexed term also matches the terms one typo away. One full-text statement."""
        specialty: Terms = [(w, True) for w in (query.specialty or "").split()]
        place: Terms = [(w, False) for w in (query.city or "").split()]
        if query.postcode_prefix:
            place.append((query.postcode_prefix, True))
        async with self._db.reading() as conn:
            groups: MatchGroups = []
            for word in query.words:
                group = [(word, True)]
                if len(word) >= TYPO_MIN_LENGTH and not await store.any_term_starts_with(
                    conn, word
                ):
                    candidates = await store.terms_for_variants(conn, deletes(word) | {word})
                    group += [(t, False) for t in sorted(candidates) if within_one_edit(word, t)]
                groups.append(group)
            return await self._run(conn, query, MatchSpec(groups, specialty, place))

    async def _run(
        self, conn: AsyncConnection, query: DirectoryQuery, spec: MatchSpec
    ) -> list[ProviderRow]:
        return await store.search(
            conn,
            spec,
            postcode_prefix=query.postcode_prefix,
            city=query.city,
            include_hidden=query.include_hidden,
            limit=query.limit,
            offset=query.offset,
        )

    async def get(self, provider_id: int) -> ProviderRow | None:
        async with self._db.reading() as conn:
            return await store.get(conn, provider_id)

    async def entries_of(self, matrix_id: str) -> list[ProviderRow]:
        async with self._db.reading() as conn:
            return await store.by_matrix_id(conn, matrix_id)

    async def set_practice_settings(
        self, matrix_id: str, *, listed: bool | None = None, accepting: bool | None = None
    ) -> list[ProviderRow]:
        async with self._db.transaction() as conn:
            await store.set_settings(
                conn, matrix_id, listed=listed, accepting=accepting, at=now_ms()
            )
            entries = await store.by_matrix_id(conn, matrix_id)
        await self._on_change()
        return entries

    async def visible_matrix_ids(self) -> list[str]:
        async with self._db.reading() as conn:
            return await store.visible_matrix_ids(conn)

    async def practice_settings(self, matrix_id: str) -> tuple[bool, bool]:
        """(listed, accepting) as the practice chose; both default to yes."""
        async with self._db.reading() as conn:
            return await store.get_settings(conn, matrix_id)

    async def listing(self, limit: int, offset: int) -> list[ProviderRow]:
        async with self._db.reading() as conn:
            return await store.listing(conn, limit, offset)

    async def count(self) -> int:
        async with self._db.reading() as conn:
            return await store.count(conn)
