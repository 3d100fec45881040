"""The words of an export, German by default, English on request."""

from __future__ import annotations

from datetime import datetime

LANGUAGES = ("de", "en")

TEXTS: dict[str, dict[str, str]] = {
    "title": {"de": "Chat-Export", "en": "Chat export"},
    "exported": {"de": "Exportiert am {when} von {who}", "en": "Exported on {when} by {who}"},
    "period_all": {"de": "Zeitraum: gesamter Verlauf", "en": "Period: the whole history"},
    "period": {"de": "Zeitraum: {since} bis {until}", "en": "Period: {since} to {until}"},
    "period_start": {"de": "Beginn", "en": "the beginning"},
    "period_now": {"de": "heute", "en": "today"},
    "messages_1": {"de": "1 Nachricht", "en": "1 message"},
    "messages_n": {"de": "{n} Nachrichten", "en": "{n} messages"},
    "undecryptable_1": {
        "de": "1 Nachricht konnte nicht entschlüsselt werden — fehlender Schlüssel",
        "en": "1 message could not be decrypted — missing key",
    },
    "undecryptable_n": {
        "de": "{n} Nachrichten konnten nicht entschlüsselt werden — fehlende Schlüssel",
        "en": "{n} messages could not be decrypted — missing keys",
    },
    "omitted_1": {
        "de": "1 Anhang ist nicht im Export enthalten",
        "en": "1 attachment is not included in the export",
    },
    "omitted_n": {
        "de": "{n} Anhänge sind nicht im Export enthalten",
        "en": "{n} attachments are not included in the export",
    },
    "confidential": {
        "de": "Dieser Export enthält vertrauliche Gesundheitsdaten. Bewahren Sie ihn sicher auf.",
        "en": "This export contains confidential health data. Keep it safe.",
    },
    "deleted": {"de": "Nachricht gelöscht", "en": "Message deleted"},
    "deleted_by": {"de": "Nachricht gelöscht von {name}", "en": "Message deleted by {name}"},
    "undecryptable": {
        "de": "Nachricht konnte nicht entschlüsselt werden (fehlender Schlüssel)",
        "en": "Message could not be decrypted (missing key)",
    },
    "edited": {"de": "bearbeitet", "en": "edited"},
    "reply_to": {"de": "Antwort auf {name}", "en": "In reply to {name}"},
    "reply_unknown": {
        "de": "Antwort auf eine Nachricht außerhalb dieses Exports",
        "en": "In reply to a message outside this export",
    },
    "joined": {"de": "{name} ist dem Chat beigetreten", "en": "{name} joined the chat"},
    "left": {"de": "{name} hat den Chat verlassen", "en": "{name} left the chat"},
    "left_reason": {
        "de": "{name} hat den Chat verlassen: {reason}",
        "en": "{name} left the chat: {reason}",
    },
    "invited": {"de": "{actor} hat {name} eingeladen", "en": "{actor} invited {name}"},
    "declined": {
        "de": "{name} hat die Einladung abgelehnt",
        "en": "{name} declined the invitation",
    },
    "uninvited": {
        "de": "Die Einladung an {name} wurde zurückgezogen",
        "en": "The invitation to {name} was withdrawn",
    },
    "removed": {
        "de": "{actor} hat {name} aus dem Chat entfernt",
        "en": "{actor} removed {name} from the chat",
    },
    "banned": {"de": "{name} wurde ausgeschlossen", "en": "{name} was banned"},
    "renamed": {
        "de": "{actor} hat den Chat „{title}“ genannt",
        "en": "{actor} named the chat “{title}”",
    },
    "created": {"de": "{actor} hat den Chat erstellt", "en": "{actor} created the chat"},
    "poll": {"de": "Umfrage: {question}", "en": "Poll: {question}"},
    "image": {"de": "Bild", "en": "Image"},
    "file": {"de": "Datei", "en": "File"},
    "audio": {"de": "Audio", "en": "Audio"},
    "video": {"de": "Video", "en": "Video"},
    "size_limit": {
        "de": "nicht exportiert — Größenlimit erreicht",
        "en": "not exported — size limit reached",
    },
    "not_exported": {
        "de": "nicht exportiert (Export ohne Anhänge)",
        "en": "not exported (export without attachments)",
    },
    "failed": {"de": "konnte nicht geladen werden", "en": "could not be downloaded"},
    "page": {"de": "Seite {n} von {total}", "en": "Page {n} of {total}"},
    "previous": {"de": "← Zurück", "en": "← Previous"},
    "next": {"de": "Weiter →", "en": "Next →"},
}

_DAYS = {
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
           "Oktober", "November", "Dezember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}  # fmt: skip


def word(key: str, language: str, **values: object) -> str:
    return TEXTS[key][language].format(**values)


def day_heading(moment: datetime, language: str) -> str:
    day = _DAYS[language][moment.weekday()]
    month = _MONTHS[language][moment.month - 1]
    return (
        f"{day}, {moment.day}. {month} {moment.year}"
        if language == "de"
        else (f"{day}, {moment.day} {month} {moment.year}")
    )


def timestamp(moment: datetime, language: str) -> str:
    if language == "de":
        return moment.strftime("%d.%m.%Y, %H:%M Uhr")
    return moment.strftime("%d %b %Y, %H:%M")


def counted(key: str, count: int, language: str) -> str:
    """`key_1` for one, `key_n` for any other number."""
    return word(f"{key}_1" if count == 1 else f"{key}_n", language, n=count)


def undecryptable_summary(count: int, language: str) -> str:
    return counted("undecryptable", count, language)
