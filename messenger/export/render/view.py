"""What each format shows of an entry: the sender's name, local time, the final text of an edited
message, the quote of a reply, and the system lines — worked out once for all writers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from messenger.export.entries import Entry
from messenger.export.spool import Spool
from messenger.export.texts import word

QUOTE_LENGTH = 120


@dataclass(frozen=True)
class ChatInfo:
    room_id: str
    name: str
    exported_by: str
    exported_at: datetime
    since: datetime | None
    until: datetime | None
    language: str
    zone: ZoneInfo
    messages: int = 0
    undecryptable: int = 0
    attachments: int = 0
    omitted: int = 0
    entries: int = 0  # lines in the spool (messages and chat events), for paging
    exporter_name: str | None = None


@dataclass(frozen=True)
class Quote:
    event_id: str
    name: str | None  # None: the message is not in this export
    text: str


@dataclass
class Shown:
    entry: Entry
    sender_name: str
    at: datetime
    body: str
    edited_at: datetime | None = None
    quote: Quote | None = None
    system: bool = False  # a line about the chat (joins, leaves, renames), not a message
    notes: list[str] = field(default_factory=list)


class Writer(Protocol):
    def begin(self, info: ChatInfo) -> None: ...
    def message(self, shown: Shown) -> None: ...
    def end(self) -> list[str]:
        """Finish; the files written, relative to the chat's folder."""


class Names:
    def __init__(self, names: dict[str, str]) -> None:
        self._names = names

    def __call__(self, user_id: str | None) -> str:
        if not user_id:
            return "?"
        return self._names.get(user_id) or user_id.removeprefix("@").partition(":")[0]


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= QUOTE_LENGTH else line[: QUOTE_LENGTH - 1] + "…"


def _system_line(entry: Entry, name: Names, language: str) -> str:
    actor = name(entry.sender)
    if entry.kind == "renamed":
        return word("renamed", language, actor=actor, title=entry.body)
    if entry.kind == "created":
        return word("created", language, actor=actor)
    target = (
        name(entry.target)
        if entry.target != entry.sender or not entry.extra.get("name")
        else (str(entry.extra["name"]))
    )
    before, membership = entry.extra.get("before", ""), entry.membership
    if membership == "join":
        return word("joined", language, name=target)
    if membership == "invite":
        return word("invited", language, actor=actor, name=target)
    if membership == "ban":
        return word("banned", language, name=target)
    if entry.sender != entry.target:
        key = "uninvited" if before == "invite" else "removed"
        return word(key, language, actor=actor, name=target)
    if before == "invite":
        return word("declined", language, name=target)
    if entry.reason:
        return word("left_reason", language, name=target, reason=entry.reason)
    return word("left", language, name=target)


def _body(entry: Entry, name: Names, language: str) -> str:
    if entry.kind == "deleted":
        if entry.deleted_by and entry.deleted_by != entry.sender:
            return word("deleted_by", language, name=name(entry.deleted_by))
        return word("deleted", language)
    if entry.kind == "undecryptable":
        return word("undecryptable", language)
    if entry.kind == "poll":
        return word("poll", language, question=entry.body)
    if entry.kind == "attachment" and entry.attachment is not None:
        return entry.attachment.name
    return entry.body


def shown_entries(spool: Spool, names: dict[str, str], info: ChatInfo) -> Iterator[Shown]:
    name = Names(names)
    language, zone = info.language, info.zone
    for entry, edit in spool.entries():
        at = datetime.fromtimestamp(entry.ts / 1000, zone)
        if entry.kind in ("membership", "renamed", "created"):
            yield Shown(
                entry, name(entry.sender), at, _system_line(entry, name, language), system=True
            )
            continue
        shown = Shown(entry, name(entry.sender), at, _body(entry, name, language))
        if entry.kind in ("text", "notice", "emote") and edit is not None:
            shown.body = edit.body
            shown.edited_at = datetime.fromtimestamp(edit.ts / 1000, zone)
        if entry.reply_to:
            shown.quote = _quote(spool, entry.reply_to, name, language)
        if entry.kind == "poll":
            shown.notes = [str(answer) for answer in entry.extra.get("answers", [])]
        yield shown


def _quote(spool: Spool, event_id: str, name: Names, language: str) -> Quote:
    original = spool.get(event_id)
    if original is None:
        return Quote(event_id, None, word("reply_unknown", language))
    text = _body(original, name, language)
    edit = spool.final_edit(original.event_id, original.sender)
    if edit is not None and original.kind in ("text", "notice", "emote"):
        text = edit.body
    return Quote(event_id, name(original.sender), _short(text))
