"""From events to what an export shows: edits, replies, deletions, chat events. Pure (the
spool is a local SQLite file)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from messenger.export.entries import Edit, Entry, read_event, strip_reply_fallback
from messenger.export.render.view import ChatInfo, shown_entries
from messenger.export.spool import Spool

BERLIN = ZoneInfo("Europe/Berlin")


def _event(event_id: str, sender: str, content: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "m.room.message", "event_id": event_id, "sender": sender,
            "origin_server_ts": 1_764_600_000_000 + int(event_id[1:]) * 1000,
            "content": content, **extra}  # fmt: skip


def test_reply_fallbacks_are_dropped() -> None:
    assert strip_reply_fallback("> <@a:x> Frage\n> zweite Zeile\n\nAntwort") == "Antwort"
    assert strip_reply_fallback("kein Zitat") == "kein Zitat"


def test_edits_replies_deletions_and_leaves_as_shown(tmp_path: Path) -> None:
    events = [  # newest first, as /messages dir=b serves them
        {"type": "m.room.member", "event_id": "$9", "sender": "@p:x", "state_key": "@p:x",
         "origin_server_ts": 1_764_600_009_000,
         "content": {"membership": "leave", "reason": "Zugang beendet — Kassenwechsel"},
         "unsigned": {"prev_content": {"membership": "join"}}},
        _event("$8", "@doc:x", {"msgtype": "m.text", "body": "* fremd",
                                "m.new_content": {"body": "fremd"},
                                "m.relates_to": {"rel_type": "m.replace", "event_id": "$2"}}),
        _event("$7", "@p:x", {"msgtype": "m.text", "body": "* Korrektur",
                              "m.new_content": {"body": "Korrektur"},
                              "m.relates_to": {"rel_type": "m.replace", "event_id": "$2"}}),
        _event("$6", "@p:x", {}, unsigned={"redacted_because": {"sender": "@p:x",
                                                                 "origin_server_ts": 1}}),
        _event("$5", "@doc:x", {"msgtype": "m.text", "body": "> <@p:x> Frage\n\nAntwort",
                                "m.relates_to": {"m.in_reply_to": {"event_id": "$2"}}}),
        _event("$3", "@doc:x", {"msgtype": "m.text", "body": "Zu alt",
                                "m.relates_to": {"m.in_reply_to": {"event_id": "$1"}}}),
        _event("$2", "@p:x", {"msgtype": "m.text", "body": "Frage"}),
        {"type": "m.reaction", "event_id": "$4", "sender": "@p:x", "origin_server_ts": 1,
         "content": {}},
    ]  # fmt: skip
    items = [read_event(e, undecryptable=False) for e in events]
    assert items[-1] is None and isinstance(items[1], Edit)
    spool = Spool(tmp_path / "s.sqlite")
    spool.add([item for item in items if item is not None])
    info = ChatInfo("!r:x", "Praxis", "@p:x", datetime.now(BERLIN), None, None, "de", BERLIN)
    shown = list(shown_entries(spool, {"@p:x": "Erika", "@doc:x": "Dr. Weber"}, info))
    by_id = {s.entry.event_id: s for s in shown}
    assert [s.entry.event_id for s in shown] == ["$2", "$3", "$5", "$6", "$9"]  # oldest first
    assert by_id["$2"].body == "Korrektur" and by_id["$2"].edited_at is not None  # own edit only
    assert by_id["$5"].body == "Antwort" and by_id["$5"].quote is not None
    assert by_id["$5"].quote.name == "Erika" and by_id["$5"].quote.text == "Korrektur"
    assert by_id["$3"].quote is not None and by_id["$3"].quote.name is None  # not in the export
    assert by_id["$6"].body == "Nachricht gelöscht"
    assert by_id["$9"].system and by_id["$9"].body == (
        "Erika hat den Chat verlassen: Zugang beendet — Kassenwechsel"
    )
    assert Entry.from_json(by_id["$5"].entry.as_json()) == by_id["$5"].entry
    spool.close()
