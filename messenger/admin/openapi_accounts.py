"""The account paths of the admin API's OpenAPI document (provisioning, coverage end)."""

from __future__ import annotations

from typing import Any

_ACCOUNT = {
    "type": "object",
    "properties": {
        "user_id": {"type": "string", "example": "@p-7k2m9q4x:kasse.example"},
        "role": {"type": "string", "enum": ["patient"]},
        "display_name": {"type": "string"},
        "homeserver": {"type": "string"},
        "password": {"type": ["string", "null"], "description": "Only when created: shown once"},
        "service_room_id": {"type": ["string", "null"]},
        "insurer_room_id": {"type": ["string", "null"]},
        "warning": {"type": ["string", "null"]},
        "created": {"type": "boolean", "description": "false: the KVNR's existing account"},
    },
}
_COVERAGE_END = {
    "type": "object",
    "properties": {
        "user_id": {"type": "string"},
        "end_on": {"type": "string", "format": "date"},
        "reason": {"type": "string", "enum": ["insurer-change", "other"]},
        "requested_at": {"type": "integer", "description": "ms since the epoch"},
        "cancelled_at": {"type": ["integer", "null"]},
        "warned": {"type": "string", "description": "warning points sent, days before, e.g. 30,7"},
        "step": {
            "type": "string",
            "enum": ["scheduled", "requests", "rooms", "account", "records", "done"],
        },
        "started_at": {"type": ["integer", "null"]},
        "finished_at": {"type": ["integer", "null"]},
    },
}
_REF = {
    "name": "ref",
    "in": "path",
    "required": True,
    "description": "The patient: Matrix ID or KVNR",
    "schema": {"type": "string"},
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def account_paths(prefix: str, errors: dict[str, Any]) -> dict[str, Any]:
    not_found = {"404": {"description": "No such account"}}
    return {
        f"{prefix}/accounts": {
            "post": {
                "summary": "Provision a patient (idempotent on the KVNR)",
                "description": (
                    "Creates the Matrix account, its service room and insurer channel; a repeat "
                    "with the same KVNR returns the same account (200, `created: false`) and "
                    "brings name, e-mail and IdP subject up to date — never a second account."
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["kvnr", "display_name"],
                                "additionalProperties": False,
                                "properties": {
                                    "kvnr": {"type": "string", "pattern": "^[A-Z][0-9]{9}$"},
                                    "display_name": {"type": "string", "maxLength": 100},
                                    "email": {"type": "string", "format": "email"},
                                    "idp_subject": {"type": "string", "maxLength": 255},
                                    "role": {"type": "string", "enum": ["patient"]},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": _json(_ACCOUNT, "Created"),
                    "200": _json(_ACCOUNT, "The KVNR's existing account"),
                    **errors,
                },
            }
        },
        f"{prefix}/accounts/{{ref}}": {
            "get": {
                "summary": "One account",
                "parameters": [_REF],
                "responses": {
                    "200": _json({"type": "object"}, "The account"),
                    **not_found,
                    **errors,
                },
            }
        },
        f"{prefix}/accounts/{{ref}}/coverage-end": {
            "post": {
                "summary": "End a patient's access on a date (idempotent)",
                "description": (
                    "Warnings in the service room at `accounts.coverage_warnings` days before; "
                    "on the date: pending chat requests withdrawn, every room left with the "
                    "reason, the account deactivated with erase, our records reduced."
                ),
                "parameters": [_REF],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["on"],
                                "properties": {
                                    "on": {"type": "string", "format": "date"},
                                    "reason": {
                                        "type": "string",
                                        "enum": ["insurer-change", "other"],
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {"200": _json(_COVERAGE_END, "The coverage end"), **errors},
            },
            "delete": {
                "summary": "Cancel a coverage end before its date (idempotent)",
                "parameters": [_REF],
                "responses": {"200": _json(_COVERAGE_END, "The cancelled end"), **errors},
            },
        },
    }
