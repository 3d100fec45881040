"""Our own Matrix namespace for custom keys (creation content, account data)."""

NAMESPACE = "de.gesundheitsmessenger"
ROOM_KIND_KEY = f"{NAMESPACE}.room_kind"
# account data: the patient's leave-prompt threshold, {"months": 1..60} or {"months": null} (off)
LEAVE_PROMPT_TYPE = f"{NAMESPACE}.leave_prompt"
