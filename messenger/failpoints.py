"""Failpoints for crash tests: `MESSENGER_FAILPOINT=<name>` makes the process exit abruptly
(like a power cut: no cleanup, no commit) when it reaches that point. Unset in production; the
tests use it to prove that resumable work finishes after a crash at a known place."""

from __future__ import annotations

import os

CRASH_EXIT = 75


def reached(name: str) -> None:
    if os.environ.get("MESSENGER_FAILPOINT") == name:
        os._exit(CRASH_EXIT)
