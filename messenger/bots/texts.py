"""Bot texts, German by default with English available. Placeholders use str.format."""

from __future__ import annotations

from typing import Literal

Language = Literal["de", "en"]

TEXTS: dict[str, dict[str, str]] = {
    "greeting": {
        "de": (
            "Willkommen beim Gesundheitsmessenger von {insurer}!\n\n"
            "Ich bin Ihr Service-Assistent. Hier erhalten Sie Hinweise zu Ihren Chats und können "
            "Einstellungen ändern. Schreiben Sie „hilfe“, um zu sehen, was ich kann.\n\n"
            "Wichtig: Der Messenger ist nicht für Notfälle gedacht. Im Notfall wählen Sie 112, "
            "den ärztlichen Bereitschaftsdienst erreichen Sie unter 116117."
        ),
        "en": (
            "Welcome to the health messenger of {insurer}!\n\n"
            "I am your service assistant. Here you get notices about your chats and can change "
            "settings. Write “help” to see what I can do.\n\n"
            "Important: the messenger is not for emergencies. In an emergency call 112; the "
            "out-of-hours medical service is 116117."
        ),
    },
    "greeting_practice": {
        "de": (
            "Willkommen beim Gesundheitsmessenger von {insurer}!\n\n"
            "Hier stellen Sie ein, ob Ihre Praxis im Verzeichnis für Versicherte erscheint und ob "
            "sie neue Chat-Anfragen annimmt. Schreiben Sie „status“ für Ihre Einträge oder "
            "„hilfe“ für alle Befehle."
        ),
        "en": (
            "Welcome to the health messenger of {insurer}!\n\n"
            "Here you choose whether your practice appears in the directory for insured persons "
            "and whether it accepts new chat requests. Write “status” for your entries or “help” "
            "for all commands."
        ),
    },
    "help_practice": {
        "de": (
            "Befehle für Praxen:\n"
            "• „status“ – Ihre Verzeichniseinträge und Einstellungen\n"
            "• „sichtbar ja|nein“ – im Verzeichnis für Versicherte erscheinen oder nicht\n"
            "• „anfragen ja|nein“ – neue Chat-Anfragen annehmen oder nicht\n"
            "• „sprache englisch|deutsch“ – Sprache der Antworten"
        ),
        "en": (
            "Commands for practices:\n"
            "• “status” – your directory entries and settings\n"
            "• “listed yes|no” – appear in the directory for insured persons or not\n"
            "• “requests yes|no” – accept new chat requests or not\n"
            "• “language german|english” – language of my answers"
        ),
    },
    "practice_status": {
        "de": "Verzeichnis: {listed}. Neue Chat-Anfragen: {accepting}.\n{entries}",
        "en": "Directory: {listed}. New chat requests: {accepting}.\n{entries}",
    },
    "practice_no_entry": {
        "de": (
            "Für Ihre Matrix-ID gibt es noch keinen Verzeichniseintrag; Ihre Einstellung gilt, "
            "sobald die Krankenkasse Ihre Praxis einträgt."
        ),
        "en": (
            "There is no directory entry for your Matrix ID yet; your setting applies as soon as "
            "the insurer adds your practice."
        ),
    },
    "help": {
        "de": (
            "Das kann ich für Sie tun:\n"
            "• „suche Kardiologie Berlin“ – Ärzte und Praxen finden "
            "(Fachrichtung, Name, Ort, PLZ)\n"
            "• „mehr“ – weitere Treffer der letzten Suche\n"
            "• „hilfe“ – diese Übersicht\n"
            "• „sprache englisch“ – Antworten auf Englisch (language english)\n"
            "• „sprache deutsch“ – Antworten auf Deutsch\n\n"
            "Weitere Funktionen (Chat-Anfragen, Fristen) folgen hier."
        ),
        "en": (
            "Here is what I can do for you:\n"
            "• “search Kardiologie Berlin” – find doctors and practices "
            "(specialty, name, city, postcode)\n"
            "• “more” – more results of the last search\n"
            "• “help” – this overview\n"
            "• “language german” – answers in German (sprache deutsch)\n"
            "• “language english” – answers in English\n\n"
            "More features (chat requests, time limits) will follow here."
        ),
    },
    "search_results": {
        "de": "Treffer für „{query}“:\n{hits}",
        "en": "Results for “{query}”:\n{hits}",
    },
    "search_more_hint": {
        "de": "Schreiben Sie „mehr“ für weitere Treffer.",
        "en": "Write “more” for more results.",
    },
    "search_none": {
        "de": (
            "Keine Treffer für „{query}“. Versuchen Sie eine Fachrichtung (z. B. Hausarzt), "
            "einen Namen, einen Ort oder eine Postleitzahl."
        ),
        "en": (
            "No results for “{query}”. Try a specialty (e.g. Hausarzt), a name, a city or a "
            "postcode."
        ),
    },
    "search_no_more": {
        "de": "Keine weiteren Treffer. Starten Sie eine neue Suche mit „suche …“.",
        "en": "No more results. Start a new search with “search …”.",
    },
    "search_invalid": {
        "de": "Diese Suche geht so nicht: {reason}",
        "en": "That search does not work: {reason}",
    },
    "language_set": {
        "de": "Ich antworte Ihnen ab jetzt auf Deutsch.",
        "en": "I will answer you in English from now on.",
    },
    "unknown_command": {
        "de": "Das habe ich leider nicht verstanden. Schreiben Sie „hilfe“ für eine Übersicht.",
        "en": "Sorry, I did not understand that. Write “help” for an overview.",
    },
    "undecryptable": {
        "de": (
            "Ihre Nachricht konnte ich nicht entschlüsseln. Bitte senden Sie sie noch einmal; "
            "falls das wieder passiert, melden Sie sich in Ihrer App ab und wieder an."
        ),
        "en": (
            "I could not decrypt your message. Please send it again; if that happens again, "
            "log out of your app and back in."
        ),
    },
}


YES_NO = {
    "de": {
        True: ("sichtbar", "werden angenommen"),
        False: ("nicht sichtbar", "werden nicht angenommen"),
    },
    "en": {True: ("listed", "accepted"), False: ("not listed", "not accepted")},
}


def text(key: str, language: str, **values: str) -> str:
    variants = TEXTS[key]
    return variants.get(language, variants["de"]).format(**values)
