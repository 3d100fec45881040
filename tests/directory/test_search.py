"""Directory import and search on SQLite and PostgreSQL (the database's own full-text engine)."""

from __future__ import annotations

import pytest

from messenger.db.database import Database
from messenger.directory.csv_source import parse_csv
from messenger.directory.fhir import parse_bundle
from messenger.directory.importer import DirectoryImport, ImportRefused
from messenger.directory.query import QueryError, parse_free_text
from messenger.directory.search import ProviderDirectory
from tests.directory.samples import CSV, vzd_bundle


async def _loaded(db: Database) -> ProviderDirectory:
    await db.migrate()
    summary = await DirectoryImport(db).run("vzd", parse_bundle(vzd_bundle()))
    assert (summary.added, summary.updated, summary.removed, len(summary.rejected)) == (7, 0, 0, 3)
    return ProviderDirectory(db)


async def _names(directory: ProviderDirectory, text: str, **kw: object) -> list[str]:
    return [row.name for row in await directory.search(parse_free_text(text, **kw))]  # type: ignore[arg-type]


async def test_search_folds_german_matches_prefixes_and_synonyms(fresh_db: Database) -> None:
    directory = await _loaded(fresh_db)
    assert await _names(directory, "kardio") == ["Praxis Dr. Weber"]  # prefix
    assert await _names(directory, "Mueller") == ["Hausarztpraxis Müller"]  # ü = ue
    assert await _names(directory, "müller") == ["Hausarztpraxis Müller"]
    assert await _names(directory, "Hausarzt München") == [
        "Hausarztpraxis Müller"
    ]  # synonym + city
    assert await _names(directory, "Frauenarzt") == ["Frauenarztpraxis Schulz"]  # name word
    assert await _names(directory, "Gynäkologie") == ["Frauenarztpraxis Schulz"]  # synonym only
    assert await _names(directory, "Kinderarzt Berlin") == ["Dr. Anna Schmidt"]
    assert await _names(directory, "Zahnarzt") == ["Zahnarztpraxis Krause"]


async def test_hidden_and_switched_off_entries_are_not_shown_to_patients(
    fresh_db: Database,
) -> None:
    directory = await _loaded(fresh_db)
    assert await _names(directory, "Praxis Kardiologie") == ["Praxis Dr. Weber"]
    everything = await _names(directory, "Kardiologie", include_hidden=True)
    assert set(everything) == {"Praxis Dr. Weber", "Praxis Versteckt", "Praxis Abgeschaltet"}


async def test_filters_by_postcode_prefix_and_city(fresh_db: Database) -> None:
    directory = await _loaded(fresh_db)
    assert set(await _names(directory, "10115")) == {
        "Praxis Dr. Weber", "Frauenarztpraxis Schulz", "Dr. Anna Schmidt",
    }  # fmt: skip
    assert await _names(directory, "", postcode="803") == [
        "Hausarztpraxis Müller", "Zahnarztpraxis Krause",
    ]  # fmt: skip
    assert await _names(directory, "", city="münchen") == [
        "Hausarztpraxis Müller",
        "Zahnarztpraxis Krause",
    ]
    assert await _names(directory, "krause", specialty="zahn") == ["Zahnarztpraxis Krause"]
    assert await _names(directory, "krause", specialty="kardio") == []


async def test_one_typo_in_a_long_word_is_forgiven(fresh_db: Database) -> None:
    directory = await _loaded(fresh_db)
    assert await _names(directory, "Kardiolgie") == ["Praxis Dr. Weber"]
    assert await _names(directory, "Kradiologie Berlin") == ["Praxis Dr. Weber"]
    assert await _names(directory, "Kardx") == []  # short words: no guessing


async def test_name_matches_rank_before_other_columns(fresh_db: Database) -> None:
    await fresh_db.migrate()
    csv = (
        "id,matrix_id,name,specialty,street,postcode,city\n"
        "a,@a:x.de,Praxis Am Markt,Hausarzt,Weg 1,10115,Weber\n"
        "b,@b:x.de,Praxis Weber,Hausarzt,Weg 1,10115,Berlin\n"
    )
    await DirectoryImport(fresh_db).run("csv", parse_csv(csv))
    assert await _names(ProviderDirectory(fresh_db), "weber") == ["Praxis Weber", "Praxis Am Markt"]


async def test_reimport_updates_changed_and_removes_vanished_entries(fresh_db: Database) -> None:
    directory = await _loaded(fresh_db)
    bundle = vzd_bundle()
    entries = bundle["entry"]
    for entry in entries:
        if entry["resource"].get("id") == "hs1":
            entry["resource"]["name"] = "Kardiologie am Hauptbahnhof"
    bundle["entry"] = [e for e in entries if e["resource"].get("id") != "hs4"]
    summary = await DirectoryImport(fresh_db).run("vzd", parse_bundle(bundle))
    assert (summary.added, summary.updated, summary.unchanged, summary.removed) == (0, 1, 5, 1)
    assert await _names(directory, "Hauptbahnhof") == ["Kardiologie am Hauptbahnhof"]
    assert await _names(directory, "Zahnarzt") == []
    # another source is independent
    await DirectoryImport(fresh_db).run("kv-csv", parse_csv(CSV))
    again = await DirectoryImport(fresh_db).run("vzd", parse_bundle(bundle))
    assert (again.added, again.updated, again.removed) == (0, 0, 0)
    assert await _names(directory, "Psychotherapie") == ["Psychotherapie Lang"]


async def test_practice_settings_change_the_result_at_once_and_survive_reimport(
    fresh_db: Database,
) -> None:
    directory = await _loaded(fresh_db)
    await directory.set_practice_settings("@praxis-weber:kasse.example", accepting=False)
    assert await _names(directory, "Weber") == []
    await DirectoryImport(fresh_db).run("vzd", parse_bundle(vzd_bundle()))
    assert await _names(directory, "Weber") == []
    await directory.set_practice_settings("@praxis-weber:kasse.example", accepting=True)
    assert await _names(directory, "Weber") == ["Praxis Dr. Weber"]


def test_queries_that_cannot_be_searched_are_refused() -> None:
    with pytest.raises(QueryError, match="say what to search"):
        parse_free_text("  ")
    with pytest.raises(QueryError, match="postcode"):
        parse_free_text("x", postcode="abc")
    with pytest.raises(QueryError, match="limit"):
        parse_free_text("x", limit=500)


async def test_a_broken_file_or_an_empty_one_changes_nothing(fresh_db: Database) -> None:
    directory = await _loaded(fresh_db)
    with pytest.raises(ImportRefused, match="nothing was imported or removed"):
        await DirectoryImport(fresh_db).run("vzd", parse_bundle({"resourceType": "Patient"}))
    with pytest.raises(ImportRefused, match="allow-empty"):
        await DirectoryImport(fresh_db).run("vzd", parse_bundle({"resourceType": "Bundle"}))
    assert await _names(directory, "Weber") == ["Praxis Dr. Weber"]
    emptied = await DirectoryImport(fresh_db).run(
        "vzd", parse_bundle({"resourceType": "Bundle"}), allow_empty=True
    )
    assert emptied.removed == 7 and await _names(directory, "Weber") == []


async def test_everyday_names_of_specialties_find_them(fresh_db: Database) -> None:
    await fresh_db.migrate()
    csv = (
        "id,matrix_id,name,specialty,street,postcode,city\n"
        "h,@h:x.de,Praxis Dr. Roth,Haut- und Geschlechtskrankheiten,Weg 1,60311,Frankfurt am Main\n"
        "a,@a:x.de,Praxis Dr. Haas,Allgemeinmedizin,Weg 2,60311,Frankfurt am Main\n"
        "l,@l:x.de,Praxis Dr. Lorenz,Pneumologie,Weg 3,10115,Berlin\n"
    )
    await DirectoryImport(fresh_db).run("csv", parse_csv(csv))
    directory = ProviderDirectory(fresh_db)
    # "Hautarzt" is one letter from "Hausarzt": a known synonym wins over a typo guess
    assert await _names(directory, "Hautarzt Frankfurt am Main") == ["Praxis Dr. Roth"]
    assert await _names(directory, "Hausarzt Frankfurt") == ["Praxis Dr. Haas"]
    assert await _names(directory, "Lungenarzt") == ["Praxis Dr. Lorenz"]


async def test_initials_and_short_words_in_a_query(fresh_db: Database) -> None:
    directory = await _loaded(fresh_db)
    # a single letter beside other words is left out ("Dr. A. Schmidt" -> dr, schmidt)
    assert await _names(directory, "A Schmidt") == ["Dr. Anna Schmidt"]
    # a short word before others is a whole word, the last one may still be typed
    assert await _names(directory, "Dr Anna") == ["Dr. Anna Schmidt"]
    assert await _names(directory, "Anna Dr") == ["Dr. Anna Schmidt"]


async def test_a_changed_synonym_list_reindexes_every_entry_at_the_next_import(
    fresh_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _loaded(fresh_db)
    monkeypatch.setattr("messenger.directory.importer.INDEX_VERSION", "next")
    summary = await DirectoryImport(fresh_db).run("vzd", parse_bundle(vzd_bundle()))
    assert (summary.added, summary.updated, summary.unchanged, summary.removed) == (0, 7, 0, 0)
    again = await DirectoryImport(fresh_db).run("vzd", parse_bundle(vzd_bundle()))
    assert (again.updated, again.unchanged) == (0, 7)
