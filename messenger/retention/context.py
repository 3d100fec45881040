"""What every job gets: the database, the homeserver client, an admin token, the settings and
a clock (injectable, so tests and `retention run --as-of` can run a job at another time)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from messenger.bridge.homeserver_client import HomeserverClient
from messenger.db.database import Database, now_ms
from messenger.settings import Settings


@dataclass(frozen=True)
class JobContext:
    db: Database
    hs: HomeserverClient
    admin_token: Callable[[], Awaitable[str]]
    settings: Settings
    now: Callable[[], int] = now_ms
