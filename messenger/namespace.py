"""Our own Matrix namespace for custom keys (creation content, account data)."""

NAMESPACE = "de.gesundheitsmessenger"
ROOM_KIND_KEY = f"{NAMESPACE}.room_kind"
