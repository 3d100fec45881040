"""The OpenAPI document of the admin API, served at /_messenger/admin/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from messenger import __version__
from messenger.admin.openapi_accounts import account_paths

PREFIX = "/_messenger/admin/v1"

_ERROR = {
    "type": "object",
    "required": ["errcode", "error"],
    "properties": {"errcode": {"type": "string"}, "error": {"type": "string"}},
}
_PROVIDER = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "matrix_id": {"type": "string", "example": "@praxis-weber:kasse.example"},
        "name": {"type": "string"},
        "specialties": {"type": "array", "items": {"type": "string"}},
        "street": {"type": "string"},
        "postcode": {"type": "string"},
        "city": {"type": "string"},
        "source": {"type": "string"},
        "source_ref": {"type": "string"},
        "hidden": {"type": "boolean"},
        "active": {"type": "boolean"},
        "listed": {"type": "boolean"},
        "accepting": {"type": "boolean"},
        "visible_to_patients": {"type": "boolean"},
    },
}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def document() -> dict[str, Any]:
    errors = {
        code: {"description": text, "content": {"application/json": {"schema": _ERROR}}}
        for code, text in (
            ("400", "Bad input; `error` names the parameter and what is allowed"),
            ("401", "Missing bearer token"),
            ("403", "Wrong bearer token"),
        )
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "messenger admin API", "version": __version__},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": _ERROR, "Provider": _PROVIDER},
        },
        "security": [{"bearer": []}],
        "paths": {
            **account_paths(PREFIX, errors),
            f"{PREFIX}/directory/search": {
                "get": {
                    "summary": "Search the provider directory",
                    "description": (
                        "German folding, prefixes, synonyms, one typo; `q` may contain a "
                        "postcode prefix. Without `all=true`, only entries shown to patients."
                    ),
                    "parameters": [
                        _query(
                            "q", "Free text: name, specialty, city, postcode", {"type": "string"}
                        ),
                        _query(
                            "postcode",
                            "Postcode or its first digits",
                            {"type": "string", "pattern": "^[0-9]{1,5}$"},
                        ),
                        _query("city", "City", {"type": "string"}),
                        _query("specialty", "Specialty (prefix)", {"type": "string"}),
                        _query("all", "Include hidden, inactive and unlisted", {"type": "boolean"}),
                        _query(
                            "limit",
                            "Page size",
                            {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                        ),
                        _query(
                            "offset", "Page start", {"type": "integer", "minimum": 0, "default": 0}
                        ),
                    ],
                    "responses": {
                        "200": {
                            "description": "Matches, best first",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "results": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Provider"},
                                            },
                                            "count": {"type": "integer"},
                                        },
                                    }
                                }
                            },
                        },
                        **errors,
                    },
                }
            },
            f"{PREFIX}/chat-requests/expire": {
                "post": {
                    "summary": "Run the chat-request expiry pass now",
                    "description": (
                        "Expires pending requests older than `chat_requests.expire_after` and "
                        "rescinds their invites (the patient is told). Runs every "
                        "`chat_requests.check_every` anyway; `as_of` evaluates as of a later "
                        "time."
                    ),
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "as_of": {"type": "string", "format": "date-time"}
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "What the pass did",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "expired": {"type": "integer"},
                                            "rescinded": {"type": "integer"},
                                            "failed": {"type": "integer"},
                                            "accepted": {
                                                "type": "integer",
                                                "description": "requests accepted instead: "
                                                "the practice had joined, but the join never "
                                                "reached the appservice",
                                            },
                                        },
                                    }
                                }
                            },
                        },
                        **errors,
                    },
                }
            },
        },
    }
