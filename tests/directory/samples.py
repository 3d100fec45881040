"""Directory test data shaped like the gematik VZD FHIR directory, and a CSV."""

from __future__ import annotations

from typing import Any

VIS = "https://gematik.de/fhir/directory/StructureDefinition/EndpointVisibility"


def _endpoint(eid: str, address: str, status: str = "active", hide: bool = False) -> dict[str, Any]:
    endpoint: dict[str, Any] = {
        "resourceType": "Endpoint",
        "id": eid,
        "status": status,
        "connectionType": {
            "system": "https://gematik.de/fhir/directory/CodeSystem/EndpointDirectoryConnectionType",
            "code": "tim",
        },
        "payloadType": [{"coding": [{"code": "tim-chat"}]}],
        "address": address,
    }
    if hide:
        endpoint["extension"] = [{"url": VIS, "valueCoding": {"code": "hide-versicherte"}}]
    return endpoint


def _location(lid: str, street: str, postcode: str, city: str) -> dict[str, Any]:
    return {
        "resourceType": "Location",
        "id": lid,
        "address": {"line": [street], "postalCode": postcode, "city": city},
    }


def _service(
    sid: str, name: str, specialty: str, endpoint: str, location: str, org: str
) -> dict[str, Any]:
    return {
        "resourceType": "HealthcareService",
        "id": sid,
        "name": name,
        "providedBy": {"reference": f"Organization/{org}"},
        "specialty": [{"coding": [{"display": specialty}]}],
        "endpoint": [{"reference": f"Endpoint/{endpoint}"}],
        "location": [{"reference": f"Location/{location}"}],
    }


def vzd_bundle() -> dict[str, Any]:
    resources: list[dict[str, Any]] = [
        {"resourceType": "Organization", "id": "org1", "name": "Praxis Dr. Weber", "active": True},
        _location("loc1", "Invalidenstraße 5", "10115", "Berlin"),
        _endpoint("ep1", "matrix:u/praxis-weber:kasse.example"),
        _service("hs1", "Praxis Dr. Weber", "Kardiologie", "ep1", "loc1", "org1"),
        # variants of the Matrix address real data has
        _endpoint("ep2", "matrix:user/hausarzt-mueller:kasse.example"),
        _location("loc2", "Hauptstraße 1", "80331", "München"),
        _service("hs2", "Hausarztpraxis Müller", "Allgemeinmedizin", "ep2", "loc2", "org1"),
        _endpoint("ep3", "matrix:u/frauenarzt-schulz%3Akasse.example"),
        _service(
            "hs3",
            "Frauenarztpraxis Schulz",
            "Frauenheilkunde und Geburtshilfe",
            "ep3",
            "loc1",
            "org1",
        ),
        _endpoint("ep4", "@zahn-krause:kasse.example"),
        _service("hs4", "Zahnarztpraxis Krause", "Zahnmedizin", "ep4", "loc2", "org1"),
        # a person at an organisation
        {
            "resourceType": "Practitioner",
            "id": "pr1",
            "name": [{"prefix": ["Dr."], "given": ["Anna"], "family": "Schmidt"}],
        },
        _endpoint("ep5", "matrix:u/anna-schmidt:kasse.example"),
        {
            "resourceType": "PractitionerRole",
            "id": "role1",
            "practitioner": {"reference": "Practitioner/pr1"},
            "organization": {"reference": "Organization/org1"},
            "specialty": [{"text": "Kinder- und Jugendmedizin"}],
            "endpoint": [{"reference": "Endpoint/ep5"}],
            "location": [{"reference": "Location/loc1"}],
        },
        # hidden from insured persons
        _endpoint("ep6", "matrix:u/versteckt:kasse.example", hide=True),
        _service("hs6", "Praxis Versteckt", "Kardiologie", "ep6", "loc1", "org1"),
        # endpoint switched off
        _endpoint("ep7", "matrix:u/abgeschaltet:kasse.example", status="off"),
        _service("hs7", "Praxis Abgeschaltet", "Kardiologie", "ep7", "loc1", "org1"),
        # broken: no endpoint, bad address, no name
        {"resourceType": "HealthcareService", "id": "bad1", "name": "Ohne Endpunkt"},
        _endpoint("ep9", "mailto:praxis@example.org"),
        _service("bad2", "Falsche Adresse", "Kardiologie", "ep9", "loc1", "org1"),
        _endpoint("ep10", "matrix:u/namenlos:kasse.example"),
        {
            "resourceType": "HealthcareService",
            "id": "bad3",
            "endpoint": [{"reference": "Endpoint/ep10"}],
        },
    ]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }


CSV = """id,matrix_id,name,specialty,street,postcode,city,visible,active
c1,@praxis-weber:kasse.example,Praxis Dr. Weber,Kardiologie,Invalidenstraße 5,10115,Berlin,ja,ja
c2,matrix:u/psycho-lang:kasse.example,Psychotherapie Lang,Psychotherapie;Psychiatrie,Ring 2,50667,Köln,ja,ja
c3,@hidden-csv:kasse.example,Praxis Unsichtbar,Kardiologie,Weg 1,10117,Berlin,nein,ja
c4,not-an-mxid,Kaputt,Kardiologie,Weg 1,10117,Berlin,ja,ja
c5,@plz:kasse.example,Praxis PLZ,Kardiologie,Weg 1,1011,Berlin,ja,ja
c6,@flag:kasse.example,Praxis Flag,Kardiologie,Weg 1,10117,Berlin,vielleicht,ja
c1,@dup:kasse.example,Doppelt,Kardiologie,Weg 1,10117,Berlin,ja,ja
c7,,Ohne ID,Kardiologie,Weg 1,10117,Berlin,ja,ja
"""
