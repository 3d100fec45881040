"""Parsing a FHIR R4 Bundle shaped like the gematik VZD-FHIR-Directory. Sans I/O.

A record is made from each HealthcareService (an organisation's service) and each PractitionerRole
(a person at an organisation) that has a TI-Messenger Endpoint (connectionType tim…, payloadType
tim-chat). Names, addresses and visibility come from the linked Organization, Practitioner and
Location. Endpoint status `off` makes the record inactive; the `hide-versicherte` visibility
extension (on the Endpoint or the Organization) hides it from patients.
"""

from __future__ import annotations

from typing import Any

from messenger.directory.matrix_address import BadMatrixAddress, parse_matrix_address
from messenger.directory.records import Parsed, ProviderRecord, Rejected

Resource = dict[str, Any]
HIDE = "hide-versicherte"


def _ref(reference: object) -> str | None:
    if isinstance(reference, dict) and isinstance(reference.get("reference"), str):
        return str(reference["reference"]).split("/_history", 1)[0]
    return None


def _codes(value: object) -> list[str]:
    """Codes and display texts of a CodeableConcept / Coding / list of them."""
    found: list[str] = []
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("code"), str):
            found.append(item["code"])
        for coding in item.get("coding", []) or []:
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                found.append(coding["code"])
    return found


def _texts(value: object) -> list[str]:
    texts: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("text"), str):
            texts.append(item["text"])
            continue
        for coding in item.get("coding", []) or []:
            if isinstance(coding, dict) and isinstance(coding.get("display"), str):
                texts.append(coding["display"])
                break
    return texts


def _hidden(resource: Resource | None) -> bool:
    if not resource:
        return False
    for extension in resource.get("extension", []) or []:
        if not isinstance(extension, dict) or "Visibility" not in str(extension.get("url", "")):
            continue
        if HIDE in _codes(extension.get("valueCoding")) or HIDE in _codes(
            extension.get("valueCodeableConcept")
        ):
            return True
    return False


def _person_name(practitioner: Resource) -> str:
    for name in practitioner.get("name", []) or []:
        if not isinstance(name, dict):
            continue
        if isinstance(name.get("text"), str):
            return str(name["text"])
        parts = [*name.get("prefix", []), *name.get("given", []), name.get("family", "")]
        joined = " ".join(str(part) for part in parts if part)
        if joined:
            return joined
    return ""


def _address(location: Resource | None, organization: Resource | None) -> tuple[str, str, str]:
    for holder in (location, organization):
        if not holder:
            continue
        addresses = holder.get("address")
        for address in addresses if isinstance(addresses, list) else [addresses]:
            if isinstance(address, dict) and (address.get("city") or address.get("postalCode")):
                lines = address.get("line") or []
                return (
                    " ".join(str(line) for line in lines),
                    str(address.get("postalCode", "")),
                    str(address.get("city", "")),
                )
    return "", "", ""


def _messenger_endpoint(endpoints: list[Resource]) -> Resource | None:
    for endpoint in endpoints:
        connection = _codes(endpoint.get("connectionType"))
        payload = _codes(endpoint.get("payloadType"))
        if any(code.startswith("tim") for code in connection) and (
            not payload or "tim-chat" in payload
        ):
            return endpoint
    return None


def parse_bundle(bundle: object) -> Parsed:
    parsed = Parsed()
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        parsed.fatal = "not a FHIR Bundle (resourceType must be Bundle)"
        return parsed
    resources: dict[str, Resource] = {}
    for entry in bundle.get("entry", []) or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") and resource.get("id"):
            resources[f"{resource['resourceType']}/{resource['id']}"] = resource
    for key, resource in resources.items():
        if resource["resourceType"] not in ("HealthcareService", "PractitionerRole"):
            continue
        try:
            parsed.records.append(_record(key, resource, resources))
        except _Reject as reject:
            parsed.rejected.append(Rejected(key, str(reject)))
    return parsed


class _Reject(Exception):
    pass


def _record(key: str, resource: Resource, resources: dict[str, Resource]) -> ProviderRecord:
    def linked(reference: object) -> Resource | None:
        target = _ref(reference)
        return resources.get(target) if target else None

    endpoints = [e for e in (linked(r) for r in resource.get("endpoint", []) or []) if e]
    organization = linked(resource.get("providedBy") or resource.get("organization"))
    endpoints += [
        e for e in (linked(r) for r in (organization or {}).get("endpoint", []) or []) if e
    ]
    endpoint = _messenger_endpoint(endpoints)
    if endpoint is None:
        raise _Reject("no TI-Messenger endpoint (connectionType tim, payloadType tim-chat)")
    try:
        matrix_id = parse_matrix_address(str(endpoint.get("address", "")))
    except BadMatrixAddress as error:
        raise _Reject(f"Endpoint/{endpoint.get('id')}: {error}") from None
    if resource["resourceType"] == "PractitionerRole":
        practitioner = linked(resource.get("practitioner"))
        name = _person_name(practitioner) if practitioner else ""
    else:
        name = str(resource.get("name") or (organization or {}).get("name") or "")
    if not name.strip():
        raise _Reject("no name (HealthcareService.name, Organization.name or Practitioner.name)")
    locations = [loc for loc in (linked(r) for r in resource.get("location", []) or []) if loc]
    street, postcode, city = _address(locations[0] if locations else None, organization)
    specialties = tuple(
        dict.fromkeys(_texts(resource.get("specialty")) + _texts(resource.get("type")))
    )
    active = (
        endpoint.get("status", "active") == "active" and resource.get("active", True) is not False
    )
    if organization is not None and organization.get("active") is False:
        active = False
    return ProviderRecord(
        source_ref=key,
        matrix_id=matrix_id,
        name=name.strip(),
        specialties=specialties,
        street=street,
        postcode=postcode,
        city=city,
        hidden=_hidden(endpoint) or _hidden(organization),
        active=active,
    )
