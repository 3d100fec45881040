"""The Synapse module class: parses its config, registers callbacks and a status resource."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from synapse.module_api import DirectServeJsonResource, ModuleApi
from synapse.module_api.errors import ConfigError

from messenger.policy.rules import RULES

log = logging.getLogger(__name__)
STATUS_PATH = "/_synapse/client/messenger/policy"


@dataclass(frozen=True)
class PolicyConfig:
    appservice_id: str
    bot_prefix: str


class _StatusResource(DirectServeJsonResource):
    """GET answers which rules are active, so operators and tests can see the module is loaded."""

    def __init__(self, config: PolicyConfig) -> None:
        super().__init__()
        self._config = config

    async def _async_render_GET(self, _request: Any) -> tuple[int, dict[str, Any]]:
        return 200, {
            "module": "messenger.policy",
            "appservice_id": self._config.appservice_id,
            "rules": list(RULES),
        }


class PolicyModule:
    def __init__(self, config: PolicyConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        api.register_web_resource(STATUS_PATH, _StatusResource(config))
        log.info("messenger policy module loaded with %d rules", len(RULES))

    @staticmethod
    def parse_config(config: dict[str, Any]) -> PolicyConfig:
        if not isinstance(config, dict):
            raise ConfigError("the messenger policy module config must be a mapping")
        unknown = set(config) - {"appservice_id", "bot_prefix"}
        if unknown:
            raise ConfigError(
                f"unknown key(s) {sorted(unknown)}; allowed: appservice_id, bot_prefix"
            )
        for key in ("appservice_id", "bot_prefix"):
            if not isinstance(config.get(key), str) or not config[key]:
                raise ConfigError(f"{key} must be a non-empty string", path=[key])
        return PolicyConfig(appservice_id=config["appservice_id"], bot_prefix=config["bot_prefix"])
