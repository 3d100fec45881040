"""Parsing what a patient writes to the service bot into a command. Sans I/O."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    # help | language | search | more | listed | accepting | status | request | requests |
    # withdraw | code | threshold | leave | keep | unknown
    name: str
    argument: str = ""
    language_hint: str | None = None  # the language the user wrote the command in
    detail: str = ""  # free text after the argument (a request's reason), as typed


_SETTINGS = {
    "sichtbar": ("listed", "de"),
    "gelistet": ("listed", "de"),
    "listed": ("listed", "en"),
    "visible": ("listed", "en"),
    "anfragen": ("accepting", "de"),
    "requests": ("accepting", "en"),
}
_REQUEST_WORDS = {"anfragen": "de", "anfrage": "de", "requests": "en", "request": "en"}
_WITHDRAW_WORDS = {"zurückziehen": "de", "zurueckziehen": "de", "withdraw": "en"}
_YES_NO = {"ja": True, "an": True, "yes": True, "on": True, "nein": False, "aus": False,
           "no": False, "off": False}  # fmt: skip
_HELP = {"hilfe": "de", "help": "en", "?": None, "start": None}
_LANGUAGE_WORDS = {"sprache": "de", "language": "en"}
_LANGUAGES = {
    "de": "de",
    "deutsch": "de",
    "german": "de",
    "en": "en",
    "englisch": "en",
    "english": "en",
}


_THRESHOLD_WORDS = {"frist": "de", "threshold": "en"}
_LEAVE_WORDS = {"verlassen": ("leave", "de"), "leave": ("leave", "en"),
                "behalten": ("keep", "de"), "keep": ("keep", "en")}  # fmt: skip
_ALL_WORDS = {"alle", "all"}


def _leave_or_keep(words: list[str]) -> Command | None:
    """ "verlassen 2", "verlassen 2 3", "alle verlassen", "verlassen alle" (and keep/behalten);
    the argument is "all" or the numbers, or what was typed when it is neither."""
    if words[0] in _ALL_WORDS and len(words) == 2 and words[1] in _LEAVE_WORDS:
        name, hint = _LEAVE_WORDS[words[1]]
        return Command(name, "all", hint)
    if words[0] not in _LEAVE_WORDS or len(words) < 2:
        return None
    name, hint = _LEAVE_WORDS[words[0]]
    rest = [w.strip(",#") for w in words[1:]]
    if rest == ["alle"] or rest == ["all"]:
        return Command(name, "all", hint)
    if not all(word.isdigit() and int(word) > 0 for word in rest):
        return Command("unknown")
    return Command(name, " ".join(rest), hint)


def parse_command(body: str) -> Command:
    words = body.strip().lower().split()
    if not words:
        return Command("unknown")
    head = words[0].lstrip("!/")
    if head in _THRESHOLD_WORDS:
        return Command("threshold", " ".join(words[1:]), _THRESHOLD_WORDS[head])
    leave = _leave_or_keep([head, *words[1:]])
    if leave is not None:
        return leave
    if head in _SETTINGS and len(words) == 2 and words[1] in _YES_NO:
        name, hint = _SETTINGS[head]
        return Command(name, "yes" if _YES_NO[words[1]] else "no", hint)
    if head in _REQUEST_WORDS:
        hint = _REQUEST_WORDS[head]
        if len(words) == 1:
            return Command("requests", language_hint=hint)
        if words[1].isdigit():
            parts = body.strip().split(None, 2)
            return Command("request", words[1], hint, parts[2] if len(parts) > 2 else "")
    if head in _WITHDRAW_WORDS and len(words) == 2 and words[1].lstrip("#").isdigit():
        return Command("withdraw", words[1].lstrip("#"), language_hint=_WITHDRAW_WORDS[head])
    if head == "code" and len(words) <= 3:
        return Command("code", body.strip().split(None, 1)[1] if len(words) > 1 else "")
    if head == "status" and len(words) == 1:
        return Command("status")
    if head in ("suche", "search", "finde", "find") and len(words) > 1:
        rest = body.strip().split(None, 1)[1]
        return Command("search", rest, "en" if head in ("search", "find") else "de")
    if head in ("mehr", "more", "weiter") and len(words) == 1:
        return Command("more", language_hint="en" if head == "more" else "de")
    if head in _HELP and len(words) == 1:
        return Command("help", language_hint=_HELP[head])
    if head in _LANGUAGE_WORDS and len(words) == 2 and words[1] in _LANGUAGES:
        return Command("language", _LANGUAGES[words[1]], _LANGUAGE_WORDS[head])
    if head in ("english", "englisch", "deutsch") and len(words) == 1:
        return Command("language", _LANGUAGES[head])
    return Command("unknown")
