"""The Synapse module class: parses its config, registers callbacks and its web resources.

User directory: Synapse asks `check_username_for_spam` for every search result; only practices
that are visible in our provider directory (listed, accepting, active, not hidden) pass, so a
search never shows a patient (or an agent) to anybody. The visible set is fetched from the
appservice at start, every minute, and at once when the appservice or the CLI posts to
/_synapse/client/messenger/policy/refresh after a change.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Any

from synapse.module_api import DirectServeJsonResource, ModuleApi, UserProfile
from synapse.module_api.errors import ConfigError

from messenger.policy.paths import REFRESH_PATH, STATUS_PATH, VISIBLE_PATH
from messenger.policy.rules import RULES, shown_in_user_directory

log = logging.getLogger(__name__)
REFRESH_EVERY_MS = 60_000
_KEYS = ("appservice_id", "bot_prefix", "appservice_url", "as_token", "hs_token")


@dataclass(frozen=True)
class PolicyConfig:
    appservice_id: str
    bot_prefix: str
    appservice_url: str
    as_token: str  # what the appservice and our CLI present when they push a refresh
    hs_token: str  # what we present to the appservice when we fetch


class _StatusResource(DirectServeJsonResource):
    """GET answers which rules are active, so operators and tests can see the module is loaded."""

    def __init__(self, module: PolicyModule) -> None:
        super().__init__()
        self._module = module

    async def _async_render_GET(self, _request: Any) -> tuple[int, dict[str, Any]]:
        return 200, {
            "module": "messenger.policy",
            "appservice_id": self._module.config.appservice_id,
            "rules": list(RULES),
            "visible_practices": len(self._module.visible),
        }


class _RefreshResource(DirectServeJsonResource):
    def __init__(self, module: PolicyModule) -> None:
        super().__init__()
        self._module = module

    async def _async_render_POST(self, request: Any) -> tuple[int, dict[str, Any]]:
        header = request.getHeader("Authorization") or ""
        token = header[7:].strip() if header.startswith("Bearer ") else ""
        if not hmac.compare_digest(token.encode(), self._module.config.as_token.encode()):
            return 403, {"errcode": "M_FORBIDDEN", "error": "wrong token"}
        count = await self._module.refresh()
        return 200, {"visible_practices": count}


class PolicyModule:
    def __init__(self, config: PolicyConfig, api: ModuleApi) -> None:
        self.config = config
        self._api = api
        self.visible: frozenset[str] = frozenset()
        api.register_web_resource(STATUS_PATH, _StatusResource(self))
        api.register_web_resource(REFRESH_PATH, _RefreshResource(self))
        api.register_spam_checker_callbacks(check_username_for_spam=self.check_username_for_spam)
        api.looping_background_call(
            self.refresh, REFRESH_EVERY_MS, desc="messenger directory refresh"
        )
        log.info("messenger policy module loaded with %d rules", len(RULES))

    async def refresh(self) -> int:
        """Fetch the visible practices; on failure keep the set we had."""
        try:
            body = await self._api.http_client.get_json(
                self.config.appservice_url.rstrip("/") + VISIBLE_PATH,
                headers={"Authorization": [f"Bearer {self.config.hs_token}"]},
            )
        except Exception as error:  # the appservice may not be up yet
            log.info("directory visibility not refreshed: %s", error)
            return len(self.visible)
        ids = body.get("matrix_ids") if isinstance(body, dict) else None
        if isinstance(ids, list):
            self.visible = frozenset(str(i) for i in ids)
        return len(self.visible)

    async def check_username_for_spam(self, user_profile: UserProfile, requester_id: str) -> bool:
        """True hides the user from the requester's user-directory search."""
        return not shown_in_user_directory(user_profile["user_id"], self.visible)

    @staticmethod
    def parse_config(config: dict[str, Any]) -> PolicyConfig:
        if not isinstance(config, dict):
            raise ConfigError("the messenger policy module config must be a mapping")
        unknown = set(config) - set(_KEYS)
        if unknown:
            raise ConfigError(f"unknown key(s) {sorted(unknown)}; allowed: {', '.join(_KEYS)}")
        for key in _KEYS:
            if not isinstance(config.get(key), str) or not config[key]:
                raise ConfigError(f"{key} must be a non-empty string", path=[key])
        return PolicyConfig(**{key: config[key] for key in _KEYS})
