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
            "• „anfragen“ – offene Chat-Anfragen an Ihre Praxis\n"
            "• „code“ – einmaliger Zugangscode für eine Patientin / einen Patienten "
            "(„code A123456780“ bindet ihn an eine KVNR, „code @…“ an eine Matrix-ID)\n"
            "• „sprache englisch|deutsch“ – Sprache der Antworten\n\n"
            "Chat-Anfragen erscheinen als Einladung in Ihrem Matrix-Client: annehmen startet den "
            "Chat, ablehnen lehnt die Anfrage ab."
        ),
        "en": (
            "Commands for practices:\n"
            "• “status” – your directory entries and settings\n"
            "• “listed yes|no” – appear in the directory for insured persons or not\n"
            "• “requests yes|no” – accept new chat requests or not\n"
            "• “requests” – open chat requests to your practice\n"
            "• “code” – a one-time access code for a patient (“code A123456780” binds it to a "
            "KVNR, “code @…” to a Matrix ID)\n"
            "• “language german|english” – language of my answers\n\n"
            "Chat requests arrive as invitations in your Matrix client: accept to start the chat, "
            "reject to decline the request."
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
            "• „anfragen 3 [Grund]“ – Chat-Anfrage an Treffer Nr. 3 senden\n"
            "• „anfragen“ – Ihre Chat-Anfragen und ihr Stand\n"
            "• „zurückziehen 12“ – offene Anfrage Nr. 12 zurückziehen\n"
            "• „code ABCD-2345“ – Zugangscode Ihrer Praxis einlösen\n"
            "• „frist 6 monate“ / „frist aus“ – ab wann ich Ihnen alte Chats zum Verlassen "
            "anbiete\n"
            "• „verlassen 2“, „alle verlassen“, „behalten 2“ – Antwort auf dieses Angebot\n"
            "• „hilfe“ – diese Übersicht\n"
            "• „sprache englisch“ – Antworten auf Englisch (language english)\n"
            "• „sprache deutsch“ – Antworten auf Deutsch\n\n"
            "Sie können eine Praxis auch direkt in Ihrer Matrix-App zu einem Chat einladen."
        ),
        "en": (
            "Here is what I can do for you:\n"
            "• “search Kardiologie Berlin” – find doctors and practices "
            "(specialty, name, city, postcode)\n"
            "• “more” – more results of the last search\n"
            "• “request 3 [reason]” – send a chat request to hit no. 3\n"
            "• “requests” – your chat requests and where they stand\n"
            "• “withdraw 12” – withdraw open request no. 12\n"
            "• “code ABCD-2345” – redeem your practice's access code\n"
            "• “threshold 6 months” / “threshold off” – when I offer to leave old chats\n"
            "• “leave 2”, “leave all”, “keep 2” – answer to that offer\n"
            "• “help” – this overview\n"
            "• “language german” – answers in German (sprache deutsch)\n"
            "• “language english” – answers in English\n\n"
            "You can also invite a practice to a chat directly in your Matrix app."
        ),
    },
    "coverage_warning_insurer-change": {
        "de": (
            "Wichtig: Ihr Zugang zum Gesundheitsmessenger endet am {date} (in {days} Tag(en)), "
            "weil Sie die Krankenkasse wechseln. Danach können Sie sich nicht mehr anmelden, Ihre "
            "Chats sind für Sie nicht mehr zugänglich und werden nicht zur neuen Krankenkasse "
            "übertragen. Die Praxen behalten ihre Kopie der Chats.\n"
            "Sichern Sie vorher, was Sie behalten möchten: Chats mit Praxen mit dem "
            "Export-Programm („messenger export“, entschlüsselt auf Ihrem Gerät) oder in Ihrer "
            "Matrix-App; Ihren Kanal zum Kundenservice schickt Ihnen der Kundenservice auf "
            "„export“ als Datei. Bei Ihrer neuen Krankenkasse registrieren Sie sich neu."
        ),
        "en": (
            "Important: your access to the health messenger ends on {date} (in {days} day(s)) "
            "because you are changing your health insurer. After that you cannot log in, your "
            "chats are no longer accessible to you and are not transferred to the new insurer. "
            "The practices keep their copy of the chats.\n"
            "Save what you want to keep before then: chats with practices with the export tool "
            "(“messenger export”, decrypted on your device) or in your Matrix app; customer "
            "service sends you your channel with them as a file on “export”. Register again with "
            "your new insurer."
        ),
    },
    "coverage_warning_other": {
        "de": (
            "Wichtig: Ihr Zugang zum Gesundheitsmessenger endet am {date} (in {days} Tag(en)). "
            "Danach können Sie sich nicht mehr anmelden und Ihre Chats sind für Sie nicht mehr "
            "zugänglich; die Praxen behalten ihre Kopie. Sichern Sie vorher, was Sie behalten "
            "möchten: Chats mit Praxen mit dem Export-Programm („messenger export“) oder in Ihrer "
            "Matrix-App; Ihren Kanal zum Kundenservice schickt Ihnen der Kundenservice auf "
            "„export“ als Datei."
        ),
        "en": (
            "Important: your access to the health messenger ends on {date} (in {days} day(s)). "
            "After that you cannot log in and your chats are no longer accessible to you; the "
            "practices keep their copy. Save what you want to keep before then: chats with "
            "practices with the export tool (“messenger export”) or in your Matrix app; customer "
            "service sends you your channel with them as a file on “export”."
        ),
    },
    "leave_prompt": {
        "de": (
            "In diesen Chats gibt es seit mehr als {months} Monaten keine neue Nachricht "
            "(letzte Nachricht in Klammern):\n{chats}\n\n"
            "Möchten Sie einen davon verlassen? Der Chat wird dann aus Ihrer Übersicht und von "
            "Ihren Geräten entfernt; für die Praxis bleibt der Chat erhalten. Exportieren Sie "
            "vorher, was Sie behalten möchten: mit dem Export-Programm („messenger export“, "
            "entschlüsselt auf Ihrem Gerät) oder in Ihrer Matrix-App; Ihren Kanal zum "
            "Kundenservice schickt Ihnen der Kundenservice auf „export“ als Datei.\n"
            "Antworten Sie „verlassen 2“, „alle verlassen“ oder „behalten 2“. Ohne Ihre Antwort "
            "wird nichts entfernt. Frist ändern: „frist 12 monate“ oder „frist aus“."
        ),
        "en": (
            "These chats have had no new message for more than {months} months (last message in "
            "brackets):\n{chats}\n\n"
            "Would you like to leave one of them? It is then removed from your chat list and your "
            "devices; the practice keeps its copy of the chat. Export first what you want to keep "
            "with the export tool (“messenger export”, decrypted on your device) or in your "
            "Matrix app; customer service sends you your channel with them as a file on "
            "“export”.\n"
            "Answer “leave 2”, “leave all” or “keep 2”. Nothing is removed without your answer. "
            "Change the threshold: “threshold 12 months” or “threshold off”."
        ),
    },
    "threshold_current": {
        "de": "Ihre Frist: {value}. Ändern mit „frist 3 monate“ (1 bis 60) oder „frist aus“.",
        "en": "Your threshold: {value}. Change it with “threshold 3 months” (1 to 60) or "
        "“threshold off”.",
    },
    "threshold_set": {
        "de": "Ihre Frist ist jetzt {value}. Chats ohne neue Nachricht seit dieser Zeit biete "
        "ich Ihnen zum Verlassen an.",
        "en": "Your threshold is now {value}. I will offer to leave chats without a new message "
        "for that long.",
    },
    "threshold_off": {
        "de": "Ich biete Ihnen keine alten Chats mehr zum Verlassen an. Wieder einschalten: "
        "„frist 6 monate“.",
        "en": "I will no longer offer to leave old chats. Turn it back on: “threshold 6 months”.",
    },
    "threshold_invalid": {
        "de": "{value} ist keine gültige Frist. Erlaubt sind 1 bis 60 Monate, z. B. "
        "„frist 3 monate“, oder „frist aus“.",
        "en": "{value} is not a valid threshold. Allowed are 1 to 60 months, e.g. "
        "“threshold 3 months”, or “threshold off”.",
    },
    "threshold_invalid_stored": {
        "de": "Ihre App hat eine ungültige Frist gespeichert ({value}); es gilt weiter die "
        "bisherige. Erlaubt sind 1 bis 60 Monate oder aus.",
        "en": "Your app stored an invalid threshold ({value}); the previous one still applies. "
        "Allowed are 1 to 60 months, or off.",
    },
    "months_value": {"de": "{months} Monate", "en": "{months} months"},
    "off_value": {"de": "aus", "en": "off"},
    "leave_done": {
        "de": "Sie haben diese Chats verlassen; sie verschwinden aus Ihrer Übersicht, die Praxis "
        "behält ihren Verlauf: {chats}",
        "en": "You left these chats; they disappear from your chat list, the practice keeps its "
        "history: {chats}",
    },
    "leave_failed": {
        "de": "Diese Chats konnte ich gerade nicht verlassen; bitte versuchen Sie es später "
        "noch einmal: {chats}",
        "en": "I could not leave these chats just now; please try again later: {chats}",
    },
    "keep_done": {
        "de": "Gut, diese Chats bleiben; ich frage erst nach Ablauf einer weiteren Frist wieder: "
        "{chats}",
        "en": "Fine, these chats stay; I will not ask again before another threshold period has "
        "passed: {chats}",
    },
    "leave_unknown": {
        "de": "Zu diesen Nummern gibt es kein offenes Angebot: {numbers}. Offene Angebote: {open}.",
        "en": "There is no open offer with these numbers: {numbers}. Open offers: {open}.",
    },
    "leave_none_open": {
        "de": "Es gibt gerade keine Chats, die ich Ihnen zum Verlassen angeboten habe.",
        "en": "There are no chats I have offered you to leave right now.",
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
    "request_sent": {
        "de": (
            "Ihre Chat-Anfrage Nr. {number} an {practice} ist gesendet. Sobald die Praxis "
            "annimmt, können Sie im neuen Chat schreiben. Zurückziehen: „zurückziehen {number}“."
        ),
        "en": (
            "Your chat request no. {number} to {practice} has been sent. Once the practice "
            "accepts, you can write in the new chat. To withdraw: “withdraw {number}”."
        ),
    },
    "request_received": {
        "de": (
            "Neue Chat-Anfrage Nr. {number} von {patient}. Nehmen Sie die Einladung in Ihrem "
            "Matrix-Client an, um den Chat zu beginnen, oder lehnen Sie sie ab."
        ),
        "en": (
            "New chat request no. {number} from {patient}. Accept the invitation in your Matrix "
            "client to start the chat, or reject it."
        ),
    },
    "request_reason": {
        "de": "{patient} schreibt zur Anfrage: {reason}",
        "en": "{patient} writes about the request: {reason}",
    },
    "request_accepted": {
        "de": (
            "{practice} hat Ihre Anfrage Nr. {number} angenommen. Sie können jetzt im Chat "
            "schreiben.\n\nHinweis: Der Chat ist nicht für Notfälle gedacht – im Notfall 112, "
            "ärztlicher Bereitschaftsdienst 116117."
        ),
        "en": (
            "{practice} has accepted your request no. {number}. You can now write in the "
            "chat.\n\nNote: the chat is not for emergencies – in an emergency call 112, "
            "out-of-hours medical service 116117."
        ),
    },
    "care_chat_started": {
        "de": (
            "Der Chat mit {patient} (Anfrage Nr. {number}) hat begonnen.\n\nHinweis: Der Chat "
            "ist nicht für Notfälle gedacht – im Notfall 112, ärztlicher Bereitschaftsdienst "
            "116117."
        ),
        "en": (
            "The chat with {patient} (request no. {number}) has started.\n\nNote: the chat is "
            "not for emergencies – in an emergency call 112, out-of-hours medical service "
            "116117."
        ),
    },
    "request_declined": {
        "de": "{practice} hat Ihre Anfrage Nr. {number} abgelehnt.",
        "en": "{practice} has declined your request no. {number}.",
    },
    "request_withdrawn": {
        "de": "Ihre Anfrage Nr. {number} an {practice} ist zurückgezogen.",
        "en": "Your request no. {number} to {practice} has been withdrawn.",
    },
    "request_withdrawn_practice": {
        "de": "{patient} hat die Anfrage Nr. {number} zurückgezogen.",
        "en": "{patient} has withdrawn request no. {number}.",
    },
    "request_expired": {
        "de": (
            "Ihre Anfrage Nr. {number} an {practice} ist abgelaufen: Die Praxis hat nicht "
            "geantwortet, die Einladung wurde zurückgenommen."
        ),
        "en": (
            "Your request no. {number} to {practice} has expired: the practice did not answer, "
            "and the invitation was withdrawn."
        ),
    },
    "request_expired_practice": {
        "de": (
            "Die Anfrage Nr. {number} von {patient} ist abgelaufen; die Einladung wurde "
            "zurückgenommen."
        ),
        "en": "Request no. {number} from {patient} has expired; the invitation was withdrawn.",
    },
    "request_refused": {
        "de": "Die Anfrage wurde nicht gesendet. {reason}",
        "en": "The request was not sent. {reason}",
    },
    "request_failed": {
        "de": (
            "Die Anfrage konnte gerade nicht gesendet werden; bitte versuchen Sie es in einigen "
            "Minuten erneut."
        ),
        "en": "The request could not be sent right now; please try again in a few minutes.",
    },
    "request_no_hit": {
        "de": (
            "Nr. {number} gibt es in Ihrer letzten Suche nicht. Suchen Sie zuerst („suche …“) "
            "und wählen Sie dann eine Nummer aus der Liste."
        ),
        "en": (
            "There is no no. {number} in your last search. Search first (“search …”), then pick "
            "a number from the list."
        ),
    },
    "request_unknown": {
        "de": "Eine Anfrage Nr. {number} von Ihnen gibt es nicht. „anfragen“ zeigt Ihre Anfragen.",
        "en": "You have no request no. {number}. “requests” lists your requests.",
    },
    "request_not_pending": {
        "de": "Die Anfrage Nr. {number} ist nicht mehr offen.",
        "en": "Request no. {number} is no longer open.",
    },
    "requests_list": {
        "de": "Ihre Chat-Anfragen:\n{lines}",
        "en": "Your chat requests:\n{lines}",
    },
    "requests_none": {
        "de": "Sie haben noch keine Chat-Anfragen gesendet.",
        "en": "You have not sent any chat requests yet.",
    },
    "requests_practice": {
        "de": "Offene Chat-Anfragen an Ihre Praxis:\n{lines}",
        "en": "Open chat requests to your practice:\n{lines}",
    },
    "requests_practice_none": {
        "de": "Es gibt keine offenen Chat-Anfragen an Ihre Praxis.",
        "en": "There are no open chat requests to your practice.",
    },
    "code_issued": {
        "de": (
            "Ihr Zugangscode: {code}\nGültig bis {until}, nur einmal verwendbar{bound}. Die "
            "Patientin / der Patient schreibt ihrem / seinem Service-Assistenten „code {code}“ "
            "und kann Ihnen danach eine Chat-Anfrage senden – auch wenn Ihre Praxis keine neuen "
            "Anfragen annimmt."
        ),
        "en": (
            "Your access code: {code}\nValid until {until}, single use{bound}. The patient "
            "writes “code {code}” to their service assistant and can then send you a chat "
            "request – even if your practice does not accept new requests."
        ),
    },
    "code_bound": {
        "de": ", nur für die angegebene Person",
        "en": ", only for the person you named",
    },
    "code_usage": {
        "de": "Schreiben Sie „code“ und den Code Ihrer Praxis, z. B. „code ABCD-2345“.",
        "en": "Write “code” and your practice's code, e.g. “code ABCD-2345”.",
    },
    "code_redeemed": {
        "de": (
            "Der Code gilt für:\n{hit}\nSchreiben Sie „anfragen 1“, um der Praxis eine "
            "Chat-Anfrage zu senden."
        ),
        "en": "The code is for:\n{hit}\nWrite “request 1” to send the practice a chat request.",
    },
    "code_invalid": {
        "de": "{reason}",
        "en": "{reason}",
    },
    "code_unknown": {
        "de": "Diesen Code gibt es nicht. Bitte prüfen Sie die Schreibweise.",
        "en": "This code does not exist. Please check how it is written.",
    },
    "code_used": {
        "de": "Dieser Code wurde bereits verwendet. Bitten Sie Ihre Praxis um einen neuen.",
        "en": "This code has been used already. Ask your practice for a new one.",
    },
    "code_expired": {
        "de": "Dieser Code ist abgelaufen. Bitten Sie Ihre Praxis um einen neuen.",
        "en": "This code has expired. Ask your practice for a new one.",
    },
    "code_not_yours": {
        "de": "Dieser Code ist für eine andere Person ausgestellt.",
        "en": "This code was issued for someone else.",
    },
    "code_locked": {
        "de": "Zu viele falsche Codes in der letzten Stunde. Bitte versuchen Sie es später erneut.",
        "en": "Too many wrong codes in the last hour. Please try again later.",
    },
    "code_binding_invalid": {
        "de": (
            "Der Code wurde nicht erstellt: {reason}. Geben Sie eine KVNR (z. B. A123456780) "
            "oder eine Matrix-ID (@…) an, oder nichts."
        ),
        "en": (
            "No code was made: {reason}. Give a KVNR (e.g. A123456780) or a Matrix ID (@…), or "
            "nothing."
        ),
    },
}


REQUEST_STATES = {
    "de": {"pending": "offen", "accepted": "angenommen", "declined": "abgelehnt",
           "withdrawn": "zurückgezogen", "expired": "abgelaufen"},
    "en": {"pending": "open", "accepted": "accepted", "declined": "declined",
           "withdrawn": "withdrawn", "expired": "expired"},
}  # fmt: skip

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


def _with_desk_texts() -> None:
    from messenger.desk.texts import DESK_TEXTS

    TEXTS.update(DESK_TEXTS)


_with_desk_texts()
