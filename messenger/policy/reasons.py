"""What a refused client is told, in German and English (one string, so any client shows both)."""

from __future__ import annotations

from messenger.policy.rules import Refusal

_REASONS: dict[str, tuple[str, str]] = {
    "insured-never-reach-insured": (
        "Versicherte können keine anderen Versicherten kontaktieren.",
        "Insured persons cannot contact other insured persons.",
    ),
    "patients-invite-only-reachable-practices": (
        "Diese Praxis nimmt derzeit keine neuen Chat-Anfragen an. Suchen Sie im Verzeichnis "
        "(Service-Chat: 'suche …') oder lösen Sie einen Zugangscode der Praxis ein ('code …').",
        "This practice does not accept new chat requests. Search the directory (service chat: "
        "'search …') or redeem an access code from the practice ('code …').",
    ),
    "one-care-chat-per-patient-and-practice": (
        "Mit dieser Praxis besteht bereits ein Chat ({room}); bitte nutzen Sie ihn.",
        "You already have a chat with this practice ({room}); please use it.",
    ),
    "chat-request-limits": (
        "Zu viele Chat-Anfragen ({which_de}: höchstens {limit}). Bitte warten Sie auf eine "
        "Antwort oder ziehen Sie eine offene Anfrage zurück.",
        "Too many chat requests ({which_en}: at most {limit}). Please wait for an answer or "
        "withdraw an open request.",
    ),
    "invitee-permission-settings": (
        "Die eingeladene Person nimmt keine Einladungen von Ihnen an.",
        "The invited person does not accept invitations from you.",
    ),
    "at-most-one-invitee": (
        "Beim Anlegen eines Chats ist höchstens eine eingeladene Person erlaubt.",
        "At most one person can be invited when a chat is created.",
    ),
    "always-encrypted": (
        "Alle Chats sind Ende-zu-Ende-verschlüsselt; die Verschlüsselung kann nicht abgeschaltet "
        "oder geändert werden.",
        "All chats are end-to-end encrypted; encryption cannot be turned off or changed.",
    ),
    "no-public-or-knock-rooms": (
        "Öffentliche Räume und Beitrittsanfragen (knock) sind nicht erlaubt.",
        "Public rooms and knocking are not allowed.",
    ),
    "no-world-readable-history": (
        "Der Verlauf kann nicht für alle lesbar gemacht werden.",
        "The history cannot be made readable for everyone.",
    ),
    "no-room-directory": (
        "Das öffentliche Raumverzeichnis ist abgeschaltet.",
        "The public room directory is disabled.",
    ),
    "own-messages-only-in-care-chats": (
        "In Chats mit Praxen kann jede Seite nur ihre eigenen Nachrichten löschen.",
        "In chats with practices, each side can delete only its own messages.",
    ),
    "room-versions-without-privileged-creators": (
        "Raumversion {version} ist nicht erlaubt (erlaubt: {allowed}).",
        "Room version {version} is not allowed (allowed: {allowed}).",
    ),
    "facts-unavailable": (
        "Der Dienst kann diese Einladung gerade nicht prüfen; bitte versuchen Sie es in einigen "
        "Minuten erneut.",
        "The service cannot check this invitation right now; please try again in a few minutes.",
    ),
}
_WHICH = {"open": ("offene Anfragen", "open requests"), "day": ("pro Tag", "per day")}


def reason_text(refusal: Refusal) -> str:
    german, english = _REASONS[refusal.rule]
    which = _WHICH.get(refusal.args.get("which", ""), ("", ""))
    args = {"which_de": which[0], "which_en": which[1], **refusal.args}
    return f"{german.format(**args)} / {english.format(**args)}"
