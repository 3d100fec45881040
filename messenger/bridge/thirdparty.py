"""Third-party lookups for the directory (Matrix AS API `/thirdparty/…`): any client can ask
`GET /_matrix/client/v3/thirdparty/user/gesundheit?q=…` and Synapse forwards it here."""

from __future__ import annotations

from typing import Any

from messenger.db.stores.directory import ProviderRow
from messenger.directory.query import parse_free_text
from messenger.directory.search import ProviderDirectory

PROTOCOL = "gesundheit"
USER_FIELDS = ["q", "specialty", "city", "postcode"]


def protocol_metadata() -> dict[str, Any]:
    return {
        "user_fields": USER_FIELDS,
        "location_fields": [],
        "icon": "",
        "field_types": {
            "q": {"regexp": ".*", "placeholder": "Name oder Fachrichtung, z. B. Kardiologie"},
            "specialty": {"regexp": ".*", "placeholder": "Fachrichtung, z. B. Hausarzt"},
            "city": {"regexp": ".*", "placeholder": "Ort, z. B. Berlin"},
            "postcode": {"regexp": "[0-9]{1,5}", "placeholder": "Postleitzahl, z. B. 10115"},
        },
        "instances": [{"desc": "Ärzte und Praxen", "network_id": "de", "fields": {}, "icon": ""}],
    }


def _user(row: ProviderRow) -> dict[str, Any]:
    return {
        "userid": row.matrix_id,
        "protocol": PROTOCOL,
        "fields": {
            "name": row.name,
            "specialty": ", ".join(row.specialties),
            "street": row.street,
            "postcode": row.postcode,
            "city": row.city,
        },
    }


async def lookup_users(
    directory: ProviderDirectory, params: dict[str, str]
) -> list[dict[str, Any]]:
    """Raises QueryError (→ 400) when the fields say nothing to search for."""
    query = parse_free_text(
        params.get("q", ""),
        postcode=params.get("postcode") or None,
        city=params.get("city") or None,
        specialty=params.get("specialty") or None,
        limit=20,
    )
    return [_user(row) for row in await directory.search(query)]
