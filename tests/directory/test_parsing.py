"""Parsing directory sources: every address variant, visibility, status, broken records."""

from __future__ import annotations

import pytest

from messenger.directory.csv_source import parse_csv
from messenger.directory.fhir import parse_bundle
from messenger.directory.matrix_address import BadMatrixAddress, parse_matrix_address
from messenger.directory.text import fold, with_synonyms, within_one_edit
from tests.directory.samples import CSV, vzd_bundle


@pytest.mark.parametrize(
    "raw",
    [
        "matrix:u/praxis:kasse.example",
        "matrix:user/praxis:kasse.example",
        "matrix:u/praxis%3Akasse.example",
        "@praxis:kasse.example",
        " matrix:u/praxis:kasse.example?action=chat",
    ],
)
def test_matrix_address_variants(raw: str) -> None:
    assert parse_matrix_address(raw) == "@praxis:kasse.example"


@pytest.mark.parametrize("raw", ["mailto:x@y.de", "praxis", "@Praxis Weber:x", "matrix:r/room:x"])
def test_bad_matrix_addresses(raw: str) -> None:
    with pytest.raises(BadMatrixAddress):
        parse_matrix_address(raw)


def test_vzd_bundle() -> None:
    parsed = parse_bundle(vzd_bundle())
    by_ref = {r.source_ref: r for r in parsed.records}
    assert set(by_ref) == {
        "HealthcareService/hs1", "HealthcareService/hs2", "HealthcareService/hs3",
        "HealthcareService/hs4", "PractitionerRole/role1", "HealthcareService/hs6",
        "HealthcareService/hs7",
    }  # fmt: skip
    weber = by_ref["HealthcareService/hs1"]
    assert (weber.matrix_id, weber.postcode, weber.city) == (
        "@praxis-weber:kasse.example",
        "10115",
        "Berlin",
    )
    assert weber.specialties == ("Kardiologie",) and weber.active and not weber.hidden
    assert by_ref["HealthcareService/hs3"].matrix_id == "@frauenarzt-schulz:kasse.example"
    assert by_ref["PractitionerRole/role1"].name == "Dr. Anna Schmidt"
    assert by_ref["HealthcareService/hs6"].hidden
    assert not by_ref["HealthcareService/hs7"].active
    reasons = {r.where: r.reason for r in parsed.rejected}
    assert "no TI-Messenger endpoint" in reasons["HealthcareService/bad1"]
    assert "not a Matrix user address" in reasons["HealthcareService/bad2"]
    assert "no name" in reasons["HealthcareService/bad3"]


def test_not_a_bundle_is_one_clear_rejection() -> None:
    parsed = parse_bundle({"resourceType": "Patient"})
    assert parsed.records == [] and parsed.fatal is not None and "Bundle" in parsed.fatal


def test_csv_rows_and_reasons() -> None:
    parsed = parse_csv(CSV)
    assert [r.source_ref for r in parsed.records] == ["c1", "c2", "c3"]
    assert parsed.records[1].specialties == ("Psychotherapie", "Psychiatrie")
    assert parsed.records[2].hidden
    reasons = {r.where: r.reason for r in parsed.rejected}
    assert "matrix_id" in reasons["line 5"]
    assert "postcode" in reasons["line 6"]
    assert "visible" in reasons["line 7"]
    assert "appears twice" in reasons["line 8"]
    assert "id: must not be empty" in reasons["line 9"]


def test_csv_header_errors_name_the_columns() -> None:
    parsed = parse_csv("id,name,colour\n1,x,red\n")
    assert parsed.records == [] and parsed.fatal is not None
    assert "missing column(s) matrix_id" in parsed.fatal
    assert "unknown column(s) colour" in parsed.fatal


def test_german_folding_synonyms_and_typos() -> None:
    assert fold("Müller-Lüdenscheidt, Straße") == "mueller luedenscheidt strasse"
    assert "hausarzt" in with_synonyms(["allgemeinmedizin"])
    assert within_one_edit("kardiolgie", "kardiologie")  # missing letter
    assert within_one_edit("kardoilogie", "kardiologie")  # swapped letters
    assert within_one_edit("kardiologje", "kardiologie")  # wrong letter
    assert not within_one_edit("kardiolgoei", "kardiologie")


def test_prefix_successor_bounds_every_longer_term() -> None:
    from messenger.db.stores.directory import _successor

    assert _successor("kardio") == "kardip"
    assert _successor("abz") == "ac"
    assert _successor("a9") == "aa"
    assert _successor("zz") is None
    assert _successor("kardio") > "kardiologie" and "kardio" <= "kardiologie"  # type: ignore[operator]
