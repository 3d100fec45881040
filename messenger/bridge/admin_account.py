"""The appservice's own server-admin account (for admin APIs such as rate-limit overrides).

A separate credential rather than an admin bot in the appservice namespace, so that the as_token is
not admin-equivalent. Created with shared-secret registration; its token is kept in secrets/ (0600).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from messenger.bridge.errors import UnknownToken, UserInUse
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.settings import Settings

log = logging.getLogger(__name__)
ADMIN_LOCALPART = "messenger-admin"


def _token_path(settings: Settings) -> Path:
    return settings.data_dir / "secrets" / "admin_access_token"


async def admin_token(settings: Settings, hs: HomeserverClient) -> str:
    path = _token_path(settings)
    if path.exists():
        token = path.read_text(encoding="ascii").strip()
        try:
            await hs.whoami(token)
            return token
        except UnknownToken:
            log.info("stored admin token no longer valid; logging in again")
    password = settings.secrets.admin_password
    try:
        response = await hs.register_with_shared_secret(
            settings.secrets.registration_shared_secret,
            ADMIN_LOCALPART,
            password,
            "messenger admin",
            admin=True,
        )
        token = str(response["access_token"])
    except UserInUse:
        token = await hs.password_login(ADMIN_LOCALPART, password, "messenger appservice")
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(token)
    return token


class AdminToken:
    """A process's admin token, as a callable: kept in memory, checked again (and renewed if
    Synapse no longer takes it: the account logged out, its devices deleted by an operator)
    once `check_s` has passed since it was last known valid."""

    def __init__(self, settings: Settings, hs: HomeserverClient, check_s: float = 300.0) -> None:
        self._settings = settings
        self._hs = hs
        self._check_s = check_s
        self._token: str | None = None
        self._checked = 0.0

    async def __call__(self) -> str:
        if self._token is None or time.monotonic() - self._checked >= self._check_s:
            self._token = await admin_token(self._settings, self._hs)
            self._checked = time.monotonic()
        return self._token
