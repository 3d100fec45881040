"""The rule set, sans I/O: pure decisions fed with facts. The chat-request issue fills it in.

Today the set is empty: every decision is "allowed". It exists so that the module, its config and
its wiring into Synapse are proven from the start and later rules only add functions here.
"""

from __future__ import annotations

from dataclasses import dataclass

RULES: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason_de: str = ""
    reason_en: str = ""


ALLOW = Decision(allowed=True)
