"""The desk bot's texts, German by default with English available (merged into bots/texts)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

_STAFF_HELP_DE = (
    "Befehle in der Warteschlange:\n"
    "• „offen“ – Tickets, die noch niemand übernommen hat\n"
    "• „nehmen 12“ (oder 👍 auf den Eintrag) – Ticket #12 übernehmen\n"
    "• „meine“ – Ihre Tickets\n"
    "• „freigeben 12“ – Ticket zurück in die Warteschlange\n"
    "• „zuweisen 12 @name:server“ – an eine Kollegin / einen Kollegen geben"
)
_STAFF_HELP_EN = (
    "Commands in the queue:\n"
    "• “open” – tickets nobody has claimed\n"
    "• “claim 12” (or 👍 on its post) – claim ticket #12\n"
    "• “mine” – your tickets\n"
    "• “unclaim 12” – back to the queue\n"
    "• “assign 12 @name:server” – hand it to a colleague"
)
_TICKET_HELP_DE = (
    "Alles, was Sie hier schreiben oder senden, geht an die versicherte Person – außer "
    "Befehlen mit „!“: „!notiz …“ (intern, wird nie gesendet), „!vorlage NAME“, „!vorlagen“, "
    "„!schliessen [Abschlusstext]“, „!freigeben“, „!hilfe“."
)
_TICKET_HELP_EN = (
    "Everything you write or send here goes to the insured person – except commands starting "
    "with “!”: “!note …” (internal, never sent), “!canned NAME”, “!canned”, “!close [closing "
    "text]”, “!unclaim”, “!help”."
)

DESK_TEXTS: dict[str, dict[str, str]] = {
    "desk_greeting": {
        "de": (
            "Willkommen beim Kundenservice – {insurer}!\n\n"
            "Hier schreiben Sie uns Ihr Anliegen, auch mit Dateien und Fotos. Sie erhalten "
            "innerhalb von {sla} eine Antwort. Wählen Sie zuerst ein Thema (Zahl oder Name):\n"
            "{menu}\n\n"
            "Für ein weiteres Anliegen schreiben Sie „neu“, für den Verlauf als Datei „export“. "
            "Nachrichten in diesem Kanal werden nach fünf Jahren automatisch gelöscht."
        ),
        "en": (
            "Welcome to customer service – {insurer}!\n\n"
            "Write to us here, files and photos included. You get an answer within {sla}. "
            "First pick a topic (number or name):\n{menu}\n\n"
            "For a further concern write “new”, for this channel as a file “export”. Messages "
            "in this channel are deleted automatically after five years."
        ),
    },
    "desk_menu": {
        "de": "Bitte wählen Sie ein Thema (Zahl oder Name):\n{menu}",
        "en": "Please pick a topic (number or name):\n{menu}",
    },
    "desk_poll_question": {"de": "Worum geht es?", "en": "What is it about?"},
    "desk_topic_chosen": {
        "de": "Thema „{topic}“. Schreiben Sie jetzt Ihre Nachricht.",
        "en": "Topic “{topic}”. Now write your message.",
    },
    "desk_topic_needed": {
        "de": (
            "Danke für Ihre Nachricht. Zu welchem Thema gehört sie? Antworten Sie mit der Zahl "
            "oder dem Namen:\n{menu}"
        ),
        "en": "Thank you. Which topic is it about? Answer with the number or the name:\n{menu}",
    },
    "desk_received": {
        "de": (
            "Danke! Ihr Anliegen #{ticket} ({topic}) ist bei uns eingegangen. Sie erhalten bis "
            "{due} eine Antwort."
        ),
        "en": (
            "Thank you! Your concern #{ticket} ({topic}) has reached us. You will have an answer "
            "by {due}."
        ),
    },
    "desk_received_again": {
        "de": "Ihre Nachricht zu #{ticket} ist angekommen. Sie erhalten bis {due} eine Antwort.",
        "en": "Your message on #{ticket} has arrived. You will have an answer by {due}.",
    },
    "desk_closed": {
        "de": (
            "Ihr Anliegen #{ticket} ist abgeschlossen.{note}\n\n"
            "Schreiben Sie uns einfach, wenn Sie noch etwas brauchen."
        ),
        "en": "Your concern #{ticket} is closed.{note}\n\nJust write if you need anything else.",
    },
    "desk_export_started": {
        "de": "Ich erstelle den Verlauf dieses Kanals als Datei ({format}). Sie erscheint "
        "gleich hier im Chat – verschlüsselt, nur für Sie lesbar.",
        "en": "I am putting this channel's history into a file ({format}). It will appear here "
        "in a moment – encrypted, readable only by you.",
    },
    "desk_export_failed": {
        "de": "Der Verlauf konnte gerade nicht erstellt werden. Bitte schreiben Sie später "
        "noch einmal „export“.",
        "en": "The history could not be made just now. Please write “export” again later.",
    },
    "desk_language_set": {
        "de": "Ich antworte Ihnen ab jetzt auf Deutsch.",
        "en": "I will answer in English from now on.",
    },
    "desk_queue_post": {
        "de": "{headline}: #{ticket} · {topic} · fällig {due}\n„{preview}“\n"
        "Übernehmen: „nehmen {ticket}“ oder 👍",
        "en": "{headline}: #{ticket} · {topic} · due {due}\n“{preview}”\n"
        "Claim: “claim {ticket}” or 👍",
    },
    "desk_headline_new": {"de": "Neu", "en": "New"},
    "desk_headline_back": {"de": "Wieder offen", "en": "Back in the queue"},
    "desk_queue_claimed": {
        "de": "#{ticket} · {topic} – übernommen von {agent}",
        "en": "#{ticket} · {topic} – claimed by {agent}",
    },
    "desk_claimed": {
        "de": "Sie haben #{ticket} übernommen. Der Ticket-Raum „{name}“ wartet auf Sie.",
        "en": "You claimed #{ticket}. The ticket room “{name}” is waiting for you.",
    },
    "desk_claim_taken": {
        "de": "#{ticket} hat bereits {agent} übernommen.",
        "en": "#{ticket} was claimed by {agent} already.",
    },
    "desk_no_ticket": {
        "de": "Es gibt kein offenes Ticket #{ticket}.",
        "en": "There is no open ticket #{ticket}.",
    },
    "desk_not_staff": {
        "de": "Nur Mitarbeitende des Kundenservice können Tickets übernehmen, lesen und "
        "beantworten.",
        "en": "Only customer-service staff can claim, read and answer tickets.",
    },
    "desk_open_list": {"de": "Offene Tickets:\n{lines}", "en": "Open tickets:\n{lines}"},
    "desk_open_none": {"de": "Keine offenen Tickets.", "en": "No open tickets."},
    "desk_mine_list": {"de": "Ihre Tickets:\n{lines}", "en": "Your tickets:\n{lines}"},
    "desk_mine_none": {"de": "Sie haben keine Tickets.", "en": "You have no tickets."},
    "desk_ticket_line": {
        "de": "#{ticket} · {topic} · {state} · fällig {due}",
        "en": "#{ticket} · {topic} · {state} · due {due}",
    },
    "desk_unclaimed": {
        "de": "#{ticket} ist wieder in der Warteschlange.",
        "en": "#{ticket} is back in the queue.",
    },
    "desk_assigned": {
        "de": "#{ticket} ist jetzt bei {agent}.",
        "en": "#{ticket} is now with {agent}.",
    },
    "desk_assign_not_staff": {
        "de": "{user} gehört nicht zum Kundenservice; #{ticket} bleibt, wo es ist.",
        "en": "{user} is not customer-service staff; #{ticket} stays where it is.",
    },
    "desk_not_holder": {
        "de": "#{ticket} bearbeitet {agent}; nur sie/er oder eine Teamleitung kann es abgeben.",
        "en": "#{ticket} is with {agent}; only they or a supervisor can hand it on.",
    },
    "desk_usage": {"de": "So geht es: {usage}", "en": "Usage: {usage}"},
    "desk_queue_help": {"de": _STAFF_HELP_DE, "en": _STAFF_HELP_EN},
    "desk_unknown_queue": {
        "de": "Das habe ich nicht verstanden. „hilfe“ zeigt die Befehle.",
        "en": "I did not understand that. “help” lists the commands.",
    },
    "desk_ticket_intro": {
        "de": "Ticket #{ticket} · {topic} · von {patient}\nFällig: {due}\n\n" + _TICKET_HELP_DE,
        "en": "Ticket #{ticket} · {topic} · from {patient}\nDue: {due}\n\n" + _TICKET_HELP_EN,
    },
    "desk_ticket_help": {"de": _TICKET_HELP_DE, "en": _TICKET_HELP_EN},
    # prefixes of mirrored messages in the ticket room ("<prefix>: <text>")
    "desk_mirror_patient": {"de": "{name}", "en": "{name}"},
    "desk_mirror_reply": {"de": "Antwort von {name}", "en": "Reply by {name}"},
    "desk_mirror_note": {"de": "Notiz von {name}", "en": "Note by {name}"},
    "desk_note_saved": {
        "de": "Notiz gespeichert (wird nicht gesendet).",
        "en": "Note saved (not sent).",
    },
    "desk_canned_unknown": {
        "de": "Keine Vorlage „{name}“; nichts gesendet. Vorlagen: {names}",
        "en": "No canned reply “{name}”; nothing sent. Canned replies: {names}",
    },
    "desk_canned_list": {"de": "Vorlagen: {names}", "en": "Canned replies: {names}"},
    "desk_none": {"de": "keine", "en": "none"},
    "desk_closed_agent": {
        "de": "#{ticket} ist geschlossen; die versicherte Person hat den Abschlusstext erhalten.",
        "en": "#{ticket} is closed; the insured person got the closing text.",
    },
    "desk_ticket_is_closed": {
        "de": "#{ticket} ist geschlossen; nichts gesendet.",
        "en": "#{ticket} is closed; nothing was sent.",
    },
    "desk_edit_not_sent": {
        "de": "Bearbeitungen werden nicht an die versicherte Person gesendet; schreiben Sie eine "
        "neue Nachricht.",
        "en": "Edits are not sent to the insured person; write a new message.",
    },
    "desk_unknown_command": {
        "de": "Unbekannter Befehl; er wurde nicht gesendet. „!hilfe“ zeigt die Befehle.",
        "en": "Unknown command; it was not sent. “!help” lists the commands.",
    },
    "desk_reopened": {
        "de": "#{ticket} ist wieder offen: die versicherte Person hat erneut geschrieben. "
        "Fällig: {due}",
        "en": "#{ticket} is open again: the insured person wrote again. Due: {due}",
    },
    "desk_reminder": {
        "de": "Erinnerung: #{ticket} ({topic}) ist noch unbeantwortet, fällig {due}.",
        "en": "Reminder: #{ticket} ({topic}) is still unanswered, due {due}.",
    },
    "desk_escalation": {
        "de": "SLA verletzt: #{ticket} ({topic}) war fällig {due} und ist unbeantwortet "
        "(bearbeitet von: {agent}).",
        "en": "SLA breached: #{ticket} ({topic}) was due {due} and is unanswered "
        "(assigned to: {agent}).",
    },
    "desk_nobody": {"de": "niemand", "en": "nobody"},
    "desk_timed_out": {
        "de": "#{ticket} wurde nicht rechtzeitig beantwortet und geht zurück in die Warteschlange.",
        "en": "#{ticket} was not answered in time and goes back to the queue.",
    },
    "desk_hours": {"de": "{hours} Stunden", "en": "{hours} hours"},
    "desk_state_open": {"de": "offen", "en": "open"},
    "desk_state_claimed": {"de": "in Bearbeitung", "en": "in progress"},
    "desk_state_waiting": {"de": "wartet auf Antwort", "en": "waiting for the patient"},
    "desk_state_closed": {"de": "geschlossen", "en": "closed"},
    "desk_file": {"de": "[Datei: {name}]", "en": "[file: {name}]"},
}

_DAYS = {"de": ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."),
         "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}  # fmt: skip


def format_due(at_ms: int | None, language: str, timezone: str = "Europe/Berlin") -> str:
    """A due time people read at a glance: "Mi., 03.12.2026, 14:30 Uhr"."""
    if at_ms is None:
        return "–"
    when = dt.datetime.fromtimestamp(at_ms / 1000, ZoneInfo(timezone))
    day = _DAYS.get(language, _DAYS["de"])[when.weekday()]
    if language == "en":
        return f"{day} {when:%d.%m.%Y}, {when:%H:%M}"
    return f"{day}, {when:%d.%m.%Y}, {when:%H:%M} Uhr"
