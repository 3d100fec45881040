"""Our own Matrix namespace for custom keys (creation content, account data), and the bots'
user namespace."""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE = "de.gesundheitsmessenger"
ROOM_KIND_KEY = f"{NAMESPACE}.room_kind"
# account data: the patient's leave-prompt threshold, {"months": 1..60} or {"months": null} (off)
LEAVE_PROMPT_TYPE = f"{NAMESPACE}.leave_prompt"


@dataclass(frozen=True)
class BotNamespace:
    """Our appservice's users: the localpart prefix on our own server. A remote user whose
    localpart happens to start with the prefix is not one of our bots."""

    prefix: str
    server_name: str

    def __contains__(self, user: str) -> bool:
        localpart, _, server = user[1:].partition(":")
        return server == self.server_name and localpart.startswith(self.prefix)
