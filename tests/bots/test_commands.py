"""What the service bot understands."""

from __future__ import annotations

from messenger.bots.commands import parse_command
from messenger.bots.texts import TEXTS, text


def test_help_in_both_languages() -> None:
    assert parse_command("Hilfe").name == "help"
    assert parse_command("hilfe").language_hint == "de"
    assert parse_command("help").language_hint == "en"


def test_language_switch() -> None:
    assert parse_command("sprache englisch").argument == "en"
    assert parse_command("language german").argument == "de"
    assert parse_command("English").argument == "en"


def test_anything_else_is_unknown() -> None:
    assert parse_command("was kostet das?").name == "unknown"
    assert parse_command("").name == "unknown"


def test_every_text_exists_in_german_and_english() -> None:
    for key, variants in TEXTS.items():
        assert set(variants) == {"de", "en"}, key
    assert "112" in text("greeting", "de", insurer="X")
    assert text("help", "fr").startswith("Das kann ich")  # unknown language falls back to German


def test_search_and_paging_commands() -> None:
    search = parse_command("Suche Kardiologie Berlin")
    assert (search.name, search.argument, search.language_hint) == (
        "search",
        "Kardiologie Berlin",
        "de",
    )
    assert parse_command("search 10115 Hausarzt").language_hint == "en"
    assert parse_command("mehr").name == "more" and parse_command("more").language_hint == "en"
    assert parse_command("suche").name == "unknown"
