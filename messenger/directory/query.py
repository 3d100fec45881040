"""What a person typed, parsed into a directory query. Sans I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from messenger.directory.text import fold

_POSTCODE = re.compile(r"^[0-9]{1,5}$")


class QueryError(ValueError):
    """The query cannot be searched; the message says why."""


@dataclass(frozen=True)
class DirectoryQuery:
    words: tuple[str, ...] = ()
    postcode_prefix: str | None = None
    city: str | None = None
    specialty: str | None = None
    limit: int = 10
    offset: int = 0
    include_hidden: bool = False  # operators see everything; patients only what is listed


def parse_free_text(
    text: str,
    *,
    postcode: str | None = None,
    city: str | None = None,
    specialty: str | None = None,
    limit: int = 10,
    offset: int = 0,
    include_hidden: bool = False,
) -> DirectoryQuery:
    """A number of 1-5 digits in the text is a postcode prefix; the other words are searched."""
    found_postcode = postcode.strip() if postcode else None
    if found_postcode is not None and not _POSTCODE.match(found_postcode):
        raise QueryError("postcode: 1 to 5 digits (a prefix such as 10 or 101 is fine)")
    terms: list[str] = []
    for word in fold(text).split():
        if _POSTCODE.match(word) and found_postcode is None:
            found_postcode = word
        else:
            terms.append(word)
    if not 1 <= limit <= 100:
        raise QueryError("limit: 1 to 100")
    if offset < 0:
        raise QueryError("offset: 0 or more")
    query = DirectoryQuery(
        words=tuple(terms[:8]),
        postcode_prefix=found_postcode,
        city=fold(city) if city else None,
        specialty=fold(specialty) if specialty else None,
        limit=limit,
        offset=offset,
        include_hidden=include_hidden,
    )
    if not (query.words or query.postcode_prefix or query.city or query.specialty):
        raise QueryError("say what to search for: a name, a specialty, a city or a postcode")
    return query
