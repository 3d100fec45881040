"""The rule set, sans I/O: pure decisions fed with facts. The chat-request issue adds more."""

from __future__ import annotations

from collections.abc import Set

RULES: tuple[str, ...] = ("user-directory-shows-only-visible-practices",)


def shown_in_user_directory(user_id: str, visible_practices: Set[str]) -> bool:
    """Only practices visible in the provider directory can be found through the user directory:
    never a patient, an agent or a bot (insured persons must not reach each other)."""
    return user_id in visible_practices
