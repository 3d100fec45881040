"""The generated Synapse config is what the running Synapse does."""

from __future__ import annotations

import aiohttp

from messenger.config import HomeserverSection
from messenger.homeserver.synapse_config import overlay, registration
from tests.system import System


async def test_policy_module_is_loaded_into_synapse(system: System) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{system.hs_url}/_synapse/client/messenger/policy") as response,
    ):
        assert response.status == 200
        body = await response.json()
    assert body["module"] == "messenger.policy"
    assert body["appservice_id"] == system.settings.config.appservice.id


async def test_federation_listener_is_off_by_default(system: System) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{system.hs_url}/_matrix/federation/v1/version") as response,
    ):
        assert response.status in (404, 400)
    assert overlay(system.settings)["federation_domain_whitelist"] == []


async def test_rooms_are_encrypted_by_default_and_previews_off(system: System, e2e_user) -> None:
    patient = await e2e_user(system.add_account("patient", "Default Check"))
    response = await patient.client.room_create()  # no encryption asked for
    state = await patient.client.room_get_state(response.room_id)
    types = {event["type"]: event["content"] for event in state.events}
    assert types["m.room.encryption"]["algorithm"] == "m.megolm.v1.aes-sha2"
    assert types["m.room.create"]["room_version"] == "10"
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{system.hs_url}/_matrix/client/v1/media/preview_url",
            params={"url": "http://127.0.0.1/"},
            headers={"Authorization": f"Bearer {patient.client.access_token}"},
        ) as preview,
    ):
        assert preview.status in (403, 404)


def test_registration_namespaces(system: System) -> None:
    reg = registration(system.settings)
    assert reg["namespaces"]["users"][0]["exclusive"] is True
    assert reg["namespaces"]["users"][0]["regex"].endswith(":localhost$")
    assert reg["rate_limited"] is False
    assert reg["sender_localpart"] != system.settings.config.bots.service.localpart
    settings = overlay(system.settings)
    assert settings["encryption_enabled_by_default_for_room_type"] == "all"
    # passed through from our config (the test system uses 1 s; the default is 1 h)
    assert settings["redaction_retention_period"] == "1s"
    assert HomeserverSection().redaction_retention_period == "1h"
    assert settings["retention"]["allowed_lifetime_max"] == "5y"
    assert settings["require_auth_for_profile_requests"] is True
    assert settings["enable_registration"] is False
