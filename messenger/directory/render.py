"""Providers as JSON for operators (CLI --json, admin API)."""

from __future__ import annotations

from typing import Any

from messenger.db.stores.directory import ProviderRow


def row_json(row: ProviderRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "matrix_id": row.matrix_id,
        "name": row.name,
        "specialties": list(row.specialties),
        "street": row.street,
        "postcode": row.postcode,
        "city": row.city,
        "source": row.source,
        "source_ref": row.source_ref,
        "hidden": row.hidden,
        "active": row.active,
        "listed": row.listed,
        "accepting": row.accepting,
        "visible_to_patients": row.visible_to_patients,
    }
