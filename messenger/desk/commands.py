"""What patients, agents and supervisors write to the desk bot, parsed. Sans I/O.

Insurer channel (patient): a topic (number, name, or a poll answer), "themen", "neu" (a further
concern next to an open one), "sprache …", "export [text|json]" (the channel as a file), or
anything else: a message for the insurer.
Queue room (staff): "offen", "nehmen 12" (or 👍 on the queue post), "meine", "freigeben 12",
"zuweisen 12 @anna:kasse.example", "hilfe".
Ticket room (the assigned agent): plain text and files go to the patient; commands start with
"!": "!notiz …", "!vorlage NAME", "!vorlagen", "!schliessen [Abschlusstext]", "!freigeben",
"!hilfe".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from messenger.config import DeskTopic


@dataclass(frozen=True)
class DeskCommand:
    name: str
    ticket: int | None = None
    argument: str = ""
    language_hint: str | None = None


def fold(value: str) -> str:
    """Lower case without accents and with ä/ö/ü/ß spelt out, for forgiving matches."""
    value = value.casefold().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    value = value.replace("ß", "ss")
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def pick_topic(body: str, topics: Sequence[DeskTopic]) -> DeskTopic | None:
    """A topic by its number in the menu, its key, or the start of its German or English name."""
    wanted = fold(body.strip().strip(".#)"))
    if not wanted:
        return None
    if wanted.isdigit():
        number = int(wanted)
        return topics[number - 1] if 1 <= number <= len(topics) else None
    if len(wanted) < 3:
        return None
    for topic in topics:
        names = (topic.key, fold(topic.de), fold(topic.en))
        if any(name == wanted or name.startswith(wanted) for name in names):
            return topic
    return None


_CHANNEL = {"themen": "de", "anliegen": "de", "topics": "en", "menu": "en", "menü": "de"}
_NEW = {("neu",): "de", ("neues", "anliegen"): "de", ("new",): "en", ("new", "concern"): "en"}
_LANGUAGE = {"sprache": "de", "language": "en"}
_LANGUAGES = {"deutsch": "de", "german": "de", "de": "de", "englisch": "en", "english": "en",
              "en": "en"}  # fmt: skip


_EXPORT = {"export": None, "exportieren": "de", "verlauf": "de", "transcript": "en"}
EXPORT_FORMATS = {"html": "html", "text": "txt", "txt": "txt", "json": "json"}


def parse_channel(body: str) -> DeskCommand:
    words = body.strip().lower().split()
    if (
        words
        and words[0] in _EXPORT
        and (len(words) == 1 or (len(words) == 2 and words[1] in EXPORT_FORMATS))
    ):
        kind = EXPORT_FORMATS[words[1]] if len(words) == 2 else "html"
        return DeskCommand("export", argument=kind, language_hint=_EXPORT[words[0]])
    if tuple(words) in _NEW:
        return DeskCommand("new", language_hint=_NEW[tuple(words)])
    if len(words) == 1 and words[0] in _CHANNEL:
        return DeskCommand("topics", language_hint=_CHANNEL[words[0]])
    if len(words) == 2 and words[0] in _LANGUAGE and words[1] in _LANGUAGES:
        return DeskCommand("language", argument=_LANGUAGES[words[1]])
    return DeskCommand("message")


_QUEUE = {
    "nehmen": ("claim", "de"), "übernehmen": ("claim", "de"), "claim": ("claim", "en"),
    "take": ("claim", "en"), "freigeben": ("unclaim", "de"), "unclaim": ("unclaim", "en"),
    "release": ("unclaim", "en"), "zuweisen": ("assign", "de"), "assign": ("assign", "en"),
    "offen": ("open", "de"), "liste": ("open", "de"), "open": ("open", "en"),
    "list": ("open", "en"), "meine": ("mine", "de"), "mine": ("mine", "en"),
    "hilfe": ("help", "de"), "help": ("help", "en"),
}  # fmt: skip
_MXID = re.compile(r"^@[^:\s]+:[A-Za-z0-9.\-]+(:[0-9]+)?$")


def _number(word: str) -> int | None:
    word = word.lstrip("#")
    return int(word) if word.isdigit() and 0 < int(word) < 2**62 else None


def parse_queue(body: str) -> DeskCommand:
    words = body.strip().split()
    if not words:
        return DeskCommand("unknown")
    head = words[0].lower().lstrip("!/")
    if head not in _QUEUE:
        return DeskCommand("unknown")
    name, hint = _QUEUE[head]
    if name in ("open", "mine", "help"):
        return DeskCommand(name, language_hint=hint) if len(words) == 1 else DeskCommand("unknown")
    ticket = _number(words[1]) if len(words) > 1 else None
    if ticket is None:
        return DeskCommand("usage", argument=name, language_hint=hint)
    if name == "assign":
        if len(words) != 3 or not _MXID.match(words[2]):
            return DeskCommand("usage", argument=name, language_hint=hint)
        return DeskCommand(name, ticket, words[2], hint)
    return (
        DeskCommand(name, ticket, language_hint=hint)
        if len(words) == 2
        else DeskCommand("usage", argument=name, language_hint=hint)
    )


_TICKET = {
    "notiz": ("note", "de"), "note": ("note", "en"), "vorlage": ("canned", "de"),
    "canned": ("canned", "en"), "vorlagen": ("canned_list", "de"),
    "schliessen": ("close", "de"), "schließen": ("close", "de"), "close": ("close", "en"),
    "freigeben": ("unclaim", "de"), "unclaim": ("unclaim", "en"), "hilfe": ("help", "de"),
    "help": ("help", "en"),
}  # fmt: skip


def parse_ticket_room(body: str) -> DeskCommand:
    """Plain text is a reply to the patient; "!…" is a command (unknown ones never go out)."""
    stripped = body.strip()
    if not stripped.startswith("!"):
        return DeskCommand("reply", argument=body)
    head, _, rest = stripped[1:].partition(" ")
    entry = _TICKET.get(head.lower())
    if entry is None:
        return DeskCommand("unknown")
    name, hint = entry
    rest = rest.strip()
    if name == "canned" and not rest:
        name = "canned_list"
    if name == "note" and not rest:
        return DeskCommand("usage", argument="note", language_hint=hint)
    return DeskCommand(name, argument=rest, language_hint=hint)
