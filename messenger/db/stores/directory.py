"""Directory queries: providers, practice settings, the typo vocabulary and the full-text index
(SQLite FTS5 or PostgreSQL tsvector — the database's own engine, never a scan in Python)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.database import insert_ignoring_duplicates
from messenger.db.schema import name_terms, provider_settings, providers, search_terms
from messenger.db.stores import policy_changes

log = logging.getLogger(__name__)

CHUNK = 500
# one group per query word: any of its terms may match; (term, as_prefix)
MatchGroups = list[list[tuple[str, bool]]]


@dataclass(frozen=True)
class ProviderRow:
    id: int
    source: str
    source_ref: str
    matrix_id: str
    name: str
    specialties: tuple[str, ...]
    street: str
    postcode: str
    city: str
    hidden: bool
    active: bool
    listed: bool
    accepting: bool

    @property
    def visible_to_patients(self) -> bool:
        return self.active and not self.hidden and self.listed and self.accepting


_COLUMNS = (
    "p.id, p.source, p.source_ref, p.matrix_id, p.name, p.specialties, p.street, p.postcode, "
    "p.city, p.hidden, p.active, coalesce(s.listed, TRUE) AS listed, "
    "coalesce(s.accepting, TRUE) AS accepting"
)
_VISIBLE = "p.active AND NOT p.hidden AND coalesce(s.listed, TRUE) AND coalesce(s.accepting, TRUE)"


def _row(row: Any) -> ProviderRow:
    m = row._mapping
    return ProviderRow(
        id=int(m["id"]),
        source=m["source"],
        source_ref=m["source_ref"],
        matrix_id=m["matrix_id"],
        name=m["name"],
        specialties=tuple(s for s in m["specialties"].split("; ") if s),
        street=m["street"],
        postcode=m["postcode"],
        city=m["city"],
        hidden=bool(m["hidden"]),
        active=bool(m["active"]),
        listed=bool(m["listed"]),
        accepting=bool(m["accepting"]),
    )


def _sqlite(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "sqlite"


# --- import -----------------------------------------------------------------------------------
async def existing_for_source(conn: AsyncConnection, source: str) -> dict[str, tuple[int, str]]:
    rows = await conn.execute(
        sa.select(providers.c.source_ref, providers.c.id, providers.c.content_hash).where(
            providers.c.source == source
        )
    )
    return {row.source_ref: (int(row.id), row.content_hash) for row in rows}


async def next_id(conn: AsyncConnection) -> int:
    """First free id. Callers hold the write lock for the import (SQLite: BEGIN IMMEDIATE)."""
    if not _sqlite(conn):
        await conn.execute(sa.text("LOCK TABLE providers IN EXCLUSIVE MODE"))
    top = (await conn.execute(sa.select(sa.func.max(providers.c.id)))).scalar()
    return int(top or 0) + 1


async def insert_providers(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        policy_changes.note(conn, policy_changes.DIRECTORY)
    for start in range(0, len(rows), CHUNK * 10):
        await conn.execute(providers.insert(), rows[start : start + CHUNK * 10])


async def update_providers(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    policy_changes.note(conn, policy_changes.DIRECTORY)
    values: dict[str, Any] = {key: sa.bindparam(f"v_{key}") for key in rows[0] if key != "id"}
    statement = providers.update().where(providers.c.id == sa.bindparam("v_id")).values(values)
    await conn.execute(statement, [{f"v_{k}": v for k, v in row.items()} for row in rows])


async def delete_providers(conn: AsyncConnection, ids: list[int]) -> None:
    if ids:
        policy_changes.note(conn, policy_changes.DIRECTORY)
    for start in range(0, len(ids), CHUNK):
        await conn.execute(providers.delete().where(providers.c.id.in_(ids[start : start + CHUNK])))


async def replace_documents(
    conn: AsyncConnection, removed: list[int], documents: list[tuple[int, str, str, str]]
) -> None:
    """Drop index entries of `removed` and (re)index (id, name, specialty, place) documents."""
    gone = removed + [doc[0] for doc in documents]
    key = "rowid" if _sqlite(conn) else "provider_id"
    for start in range(0, len(gone), CHUNK):
        chunk = gone[start : start + CHUNK]
        await conn.execute(
            sa.text(f"DELETE FROM provider_fts WHERE {key} IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": chunk},
        )
    if not documents:
        return
    if _sqlite(conn):
        statement = sa.text(
            "INSERT INTO provider_fts (rowid, name, specialty, place) VALUES (:i, :n, :s, :p)"
        )
    else:
        statement = sa.text(
            "INSERT INTO provider_fts (provider_id, document) VALUES (:i, "
            "setweight(to_tsvector('simple', :n), 'A') || "
            "setweight(to_tsvector('simple', :s), 'B') || "
            "setweight(to_tsvector('simple', :p), 'C'))"
        )
    params = [{"i": i, "n": n, "s": s, "p": p} for i, n, s, p in documents]
    for start in range(0, len(params), CHUNK * 10):
        await conn.execute(statement, params[start : start + CHUNK * 10])


async def add_terms(conn: AsyncConnection, pairs: set[tuple[str, str]]) -> None:
    rows = [{"variant": v, "term": t} for v, t in pairs]
    for start in range(0, len(rows), CHUNK * 10):
        await conn.execute(
            insert_ignoring_duplicates(conn, search_terms), rows[start : start + CHUNK * 10]
        )


async def add_name_terms(conn: AsyncConnection, terms: set[str]) -> None:
    rows = [{"term": term} for term in sorted(terms)]
    for start in range(0, len(rows), CHUNK * 10):
        await conn.execute(
            insert_ignoring_duplicates(conn, name_terms), rows[start : start + CHUNK * 10]
        )


def _successor(prefix: str) -> str | None:
    """The first [a-z0-9] string after every string that starts with `prefix` (folded terms
    only: digits sort before letters under binary and locale collations alike)."""
    while prefix:
        last = prefix[-1]
        if last == "9":
            return prefix[:-1] + "a"
        if last != "z":
            return prefix[:-1] + chr(ord(last) + 1)
        prefix = prefix[:-1]
    return None


def _starts_with(column: sa.ColumnElement[str], prefix: str) -> sa.ColumnElement[bool]:
    """An index range for "starts with" that holds under binary and locale collations."""
    upper = _successor(prefix)
    condition = column >= prefix
    return condition if upper is None else sa.and_(condition, column < upper)


async def any_name_starts_with(conn: AsyncConnection, prefixes: list[str]) -> bool:
    """Whether some provider name has a word starting with one of the prefixes (one probe)."""
    if not prefixes:
        return False
    condition = sa.or_(*(_starts_with(name_terms.c.term, prefix) for prefix in prefixes))
    found = await conn.execute(sa.select(name_terms.c.term).where(condition).limit(1))
    return found.first() is not None


async def analyze(conn: AsyncConnection) -> None:
    """After a bulk change: fresh planner statistics (PostgreSQL plans badly without them), and
    on PostgreSQL the GIN indexes' pending lists merged into the index — a bulk insert leaves up
    to `gin_pending_list_limit` (4 MB) of unsorted entries that every search scans in full until
    autovacuum comes by (at 250k entries p99 11.3 ms with them, 5.0 ms without)."""
    if _sqlite(conn):
        await conn.execute(sa.text("ANALYZE"))
        return
    for index in ("ix_provider_fts_document", "ix_provider_fts_name"):
        try:
            async with conn.begin_nested():  # a refusal must not end the import's transaction
                await conn.execute(sa.text(f"SELECT gin_clean_pending_list('{index}'::regclass)"))
        except DBAPIError as error:  # e.g. the database user does not own the index
            log.warning("cannot merge %s's pending list (autovacuum will): %s", index, error.orig)
    await conn.execute(sa.text("ANALYZE providers, provider_fts, provider_settings"))


async def terms_starting_with(
    conn: AsyncConnection, prefixes: list[str], cap: int
) -> dict[str, list[str]]:
    """Up to `cap` indexed terms (4+ letters) that start with each prefix, in one statement
    (vocabulary range probes)."""
    if not prefixes:
        return {}
    parts = []
    for number, prefix in enumerate(prefixes):
        condition = sa.and_(
            _starts_with(search_terms.c.variant, prefix),
            search_terms.c.variant == search_terms.c.term,
        )
        inner = (
            sa.select(search_terms.c.term)
            .where(condition)
            .order_by(search_terms.c.variant)
            .limit(cap)
            .subquery()
        )
        parts.append(sa.select(sa.literal(number).label("n"), inner.c.term))
    found: dict[str, list[str]] = {prefix: [] for prefix in prefixes}
    for row in await conn.execute(sa.union_all(*parts)):
        found[prefixes[row.n]].append(row.term)
    return found


async def terms_for_variants(conn: AsyncConnection, variants: set[str]) -> set[str]:
    if not variants:
        return set()
    rows = await conn.execute(
        sa.select(search_terms.c.term).where(search_terms.c.variant.in_(sorted(variants)))
    )
    return {row.term for row in rows}


# --- practice settings ------------------------------------------------------------------------
async def set_settings(
    conn: AsyncConnection, matrix_id: str, *, listed: bool | None, accepting: bool | None, at: int
) -> None:
    policy_changes.note(conn, policy_changes.DIRECTORY)
    await conn.execute(
        insert_ignoring_duplicates(conn, provider_settings).values(
            matrix_id=matrix_id, listed=True, accepting=True, updated_at=at
        )
    )
    values: dict[str, Any] = {"updated_at": at}
    if listed is not None:
        values["listed"] = listed
    if accepting is not None:
        values["accepting"] = accepting
    await conn.execute(
        provider_settings.update().where(provider_settings.c.matrix_id == matrix_id).values(values)
    )


async def visible_matrix_ids(conn: AsyncConnection) -> list[str]:
    """Whom patients may find and reach. An entry whose Matrix ID is an account of another role
    (an import mistake) is never visible: the policy module counts every visible ID as a
    practice."""
    rows = await conn.execute(
        sa.text(
            "SELECT DISTINCT p.matrix_id FROM providers p LEFT JOIN provider_settings s "
            f"ON s.matrix_id = p.matrix_id WHERE {_VISIBLE} AND NOT EXISTS (SELECT 1 FROM "
            "accounts a WHERE a.user_id = p.matrix_id AND a.role <> 'practice')"
        )
    )
    return [row.matrix_id for row in rows]


async def get_settings(conn: AsyncConnection, matrix_id: str) -> tuple[bool, bool]:
    row = (
        await conn.execute(
            sa.select(provider_settings.c.listed, provider_settings.c.accepting).where(
                provider_settings.c.matrix_id == matrix_id
            )
        )
    ).first()
    return (True, True) if row is None else (bool(row.listed), bool(row.accepting))


# --- reading ------------------------------------------------------------------------------------
async def get(conn: AsyncConnection, provider_id: int) -> ProviderRow | None:
    row = (
        await conn.execute(
            sa.text(
                f"SELECT {_COLUMNS} FROM providers p "
                "LEFT JOIN provider_settings s ON s.matrix_id = p.matrix_id WHERE p.id = :id"
            ),
            {"id": provider_id},
        )
    ).first()
    return _row(row) if row else None


async def by_matrix_id(conn: AsyncConnection, matrix_id: str) -> list[ProviderRow]:
    rows = await conn.execute(
        sa.text(
            f"SELECT {_COLUMNS} FROM providers p LEFT JOIN provider_settings s "
            "ON s.matrix_id = p.matrix_id WHERE p.matrix_id = :m ORDER BY p.id"
        ),
        {"m": matrix_id},
    )
    return [_row(row) for row in rows]


async def listing(conn: AsyncConnection, limit: int, offset: int) -> list[ProviderRow]:
    rows = await conn.execute(
        sa.text(
            f"SELECT {_COLUMNS} FROM providers p LEFT JOIN provider_settings s "
            "ON s.matrix_id = p.matrix_id ORDER BY p.id LIMIT :limit OFFSET :offset"
        ),
        {"limit": limit, "offset": offset},
    )
    return [_row(row) for row in rows]


async def count(conn: AsyncConnection) -> int:
    return int((await conn.execute(sa.select(sa.func.count()).select_from(providers))).scalar_one())


Terms = list[tuple[str, bool]]


@dataclass(frozen=True)
class MatchSpec:
    """What the full-text index must match. `groups`: one per query word, any column, any term of
    the group; `specialty`: terms of the specialty column (all must match); `postcode`: a prefix
    of the postcode."""

    groups: MatchGroups
    specialty: Terms
    postcode: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.groups or self.specialty or self.postcode)

    @property
    def name_terms(self) -> Terms:
        return [term for group in self.groups for term in group]


def _sqlite_match(spec: MatchSpec, in_name: bool) -> str:
    def term(text: str, prefix: bool) -> str:
        return f'"{text}"' + ("*" if prefix else "")

    def any_of(terms: Terms) -> str:
        return "(" + " OR ".join(term(t, p) for t, p in terms) + ")"

    parts = [any_of(group) for group in spec.groups]
    parts += [f"specialty : {term(t, p)}" for t, p in spec.specialty]
    if spec.postcode:
        parts.append(f"place : {term(spec.postcode, True)}")
    if in_name:
        parts.append("name : " + any_of(spec.name_terms))
    return " AND ".join(parts)


def _postgres_query(terms: Terms, weight: str = "", joiner: str = " & ") -> str:
    def term(text: str, prefix: bool) -> str:
        return f"{text}:{'*' if prefix else ''}{weight}" if prefix or weight else text

    return joiner.join(term(t, p) for t, p in terms)


def _postgres_match(spec: MatchSpec) -> str:
    """No weights but for an explicit specialty: a weight is not in the GIN index (recheck)."""
    parts = ["(" + _postgres_query(group, joiner=" | ") + ")" for group in spec.groups]
    if spec.specialty:
        parts.append(_postgres_query(spec.specialty, "B"))
    if spec.postcode:
        parts.append(_postgres_query([(spec.postcode, True)]))
    return " & ".join(parts)


def _tier_sql(conn: AsyncConnection, where: str, tier: int) -> str:
    """Tier 1: a query word matches the name too; tier 2: every match (in index order)."""
    join = "LEFT JOIN provider_settings s ON s.matrix_id = p.matrix_id"
    if _sqlite(conn):
        return (
            f"SELECT {tier} AS tier, {_COLUMNS} FROM provider_fts f JOIN providers p "
            f"ON p.id = f.rowid {join} WHERE provider_fts MATCH :m{tier} AND {where} "
            f"LIMIT :limit{tier}"
        )
    in_name = " AND ts_filter(f.document, '{a}') @@ to_tsquery('simple', :n)" if tier == 1 else ""
    return (
        f"SELECT {tier} AS tier, {_COLUMNS} FROM provider_fts f JOIN providers p "
        f"ON p.id = f.provider_id {join} WHERE f.document @@ to_tsquery('simple', :m) "
        f"{in_name} AND {where} LIMIT :limit{tier}"
    )


async def _matches(
    conn: AsyncConnection, spec: MatchSpec, tiered: bool, where: str, params: dict[str, Any],
    wanted: int,
) -> list[ProviderRow]:  # fmt: skip
    """One round trip. Tiered: up to `wanted` name matches, then the first 2 × `wanted` of all
    matches, of which at least `wanted` are not name matches unless there are fewer."""
    values = {**params, "limit1": wanted, "limit2": 2 * wanted if tiered else wanted}
    if _sqlite(conn):
        values["m2"] = _sqlite_match(spec, in_name=False)
        if tiered:
            values["m1"] = _sqlite_match(spec, in_name=True)
    else:
        values["m"] = _postgres_match(spec)
        values["n"] = _postgres_query(spec.name_terms, joiner=" | ")
    sql = _tier_sql(conn, where, 2)
    if tiered:
        first_tier = _tier_sql(conn, where, 1)
        sql = f"SELECT * FROM ({first_tier}) AS t1 UNION ALL SELECT * FROM ({sql}) AS t2"
    rows = list(await conn.execute(sa.text(sql), values))
    first = [_row(row) for row in rows if row.tier == 1]
    seen = {row.id for row in first}
    rest = [_row(row) for row in rows if row.tier == 2 and row.id not in seen]
    return (first + rest)[:wanted]


async def search(
    conn: AsyncConnection,
    spec: MatchSpec,
    *,
    city: str | None,
    include_hidden: bool,
    limit: int,
    offset: int,
) -> list[ProviderRow]:
    """Entries whose name matches a query word come first, then the others; within a tier in
    index order. No tier scores every match, so broad queries stay fast at any size."""
    filters = [] if include_hidden else [_VISIBLE]
    params: dict[str, Any] = {}
    if spec.postcode:
        filters.append("p.postcode LIKE :postcode")
        params["postcode"] = spec.postcode + "%"
    if city:
        filters.append("p.city_folded = :city")
        params["city"] = city
    where = " AND ".join(filters) if filters else "TRUE"
    wanted = offset + limit
    if not (spec.groups or spec.specialty):
        join = "LEFT JOIN provider_settings s ON s.matrix_id = p.matrix_id"
        rows = await conn.execute(
            sa.text(f"SELECT {_COLUMNS} FROM providers p {join} WHERE {where} LIMIT :limit"),
            {**params, "limit": wanted},
        )
        return [_row(row) for row in rows][offset:]
    tiered = bool(spec.groups) and await any_name_starts_with(
        conn, [term for term, _prefix in spec.name_terms]
    )
    return (await _matches(conn, spec, tiered, where, params, wanted))[offset:]


async def practice_reach(conn: AsyncConnection, matrix_id: str) -> tuple[bool, bool]:
    """(in the directory at all, visible to patients = listed, accepting, active, not hidden)."""
    row = (
        await conn.execute(
            sa.text(
                f"SELECT MAX(CASE WHEN {_VISIBLE} THEN 1 ELSE 0 END) AS visible, COUNT(*) AS n "
                "FROM providers p LEFT JOIN provider_settings s ON s.matrix_id = p.matrix_id "
                "WHERE p.matrix_id = :m"
            ),
            {"m": matrix_id},
        )
    ).one()
    return bool(row.n), bool(row.visible)
