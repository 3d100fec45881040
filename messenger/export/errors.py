"""The one error the exporter raises for anything the user can fix: it says what was wrong."""

from __future__ import annotations


class ExportError(Exception):
    """Bad input or a refused step (login, keys, room, output); nothing was written."""
