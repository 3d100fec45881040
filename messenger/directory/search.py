"""Handler: the provider directory as patients, practices, operators and bots search it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.database import Database, now_ms
from messenger.db.stores import directory as store
from messenger.db.stores.directory import MatchGroups, MatchSpec, ProviderRow, Terms
from messenger.directory.query import DirectoryQuery
from messenger.directory.text import (
    TYPO_MIN_LENGTH,
    VOCABULARY_MIN_LENGTH,
    deletes,
    within_one_edit,
)

Changed = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


# A word that starts at most this many indexed terms is searched as those terms (exact terms are
# cheaper than a prefix for both engines); one that starts more, as a prefix.
EXPANSION_MAX = 16


async def _groups(conn: AsyncConnection, words: tuple[str, ...]) -> MatchGroups:
    """One group of (term, as_prefix) per word. A word matches the indexed terms it starts
    (prefix matching, from the vocabulary); a word of 5+ letters that starts none matches the
    terms one typo away; a short word matches as a whole word unless it is the last one (still
    being typed); a single letter beside other words says too little and is left out."""
    if len(words) > 1:
        words = tuple(word for word in words if len(word) > 1) or words
    probed = [w for w in words if len(w) >= VOCABULARY_MIN_LENGTH and not w.isdigit()]
    starts = await store.terms_starting_with(conn, probed, EXPANSION_MAX + 1)
    groups: MatchGroups = []
    for number, word in enumerate(words):
        terms = starts.get(word)
        if terms is None:  # not in the vocabulary: too short, or digits
            group = [(word, number == len(words) - 1 or len(word) >= VOCABULARY_MIN_LENGTH)]
        elif len(terms) > EXPANSION_MAX:
            group = [(word, True)]
        elif terms or len(word) < TYPO_MIN_LENGTH:
            group = [(term, False) for term in terms] or [(word, False)]
        else:
            candidates = await store.terms_for_variants(conn, deletes(word) | {word})
            group = [(t, False) for t in sorted(candidates) if within_one_edit(word, t)]
            group = group or [(word, False)]
        groups.append(group)
    return groups


class ProviderDirectory:
    def __init__(self, db: Database, on_change: Changed = _nothing) -> None:
        self._db = db
        self._on_change = on_change  # e.g. tell the Synapse module to refresh visibility

    async def search(self, query: DirectoryQuery) -> list[ProviderRow]:
        """Every word must match some column (see `_groups`); one full-text statement."""
        specialty: Terms = [(w, True) for w in (query.specialty or "").split()]
        async with self._db.reading() as conn:
            spec = MatchSpec(await _groups(conn, query.words), specialty, query.postcode_prefix)
            return await store.search(
                conn,
                spec,
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
