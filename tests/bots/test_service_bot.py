"""The service bot greets each new patient in an encrypted service room, answers commands, and
keeps its device across restarts of the appservice."""

from __future__ import annotations

import asyncio
import shutil

from messenger.bots.cross_signing import cross_sign_device
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.db.stores import accounts as accounts_store
from messenger.db.stores import bot_devices
from messenger.ids import UserID
from messenger.secretbox import SecretBox
from tests.system import System


async def test_new_patient_is_greeted_in_german_in_an_encrypted_service_room(
    system: System, e2e_user
) -> None:
    account = system.add_account("patient", "Max Muster")
    assert account["service_room_id"]
    patient = await e2e_user(account)
    room = account["service_room_id"]
    await patient.wait_for(lambda: room in patient.invites)
    await patient.join(room)
    greeting = await patient.wait_for_message(room, "Willkommen")
    assert greeting.msgtype == "m.notice"
    assert "112" in greeting.body and "116117" in greeting.body
    assert patient.client.rooms[room].encrypted
    assert not patient.undecryptable

    await patient.send_text(room, "hilfe")
    await patient.wait_for_message(room, "Das kann ich für Sie tun")
    await patient.send_text(room, "language english")
    await patient.wait_for_message(room, "in English from now on")
    await patient.send_text(room, "what now?")
    await patient.wait_for_message(room, "Sorry, I did not understand")

    async with system.db.transaction() as conn:
        row = await accounts_store.get(conn, account["user_id"])
    assert row is not None and row.greeted_at is not None and row.language == "en"
    greetings = [m for m in patient.messages if m.room_id == room and "Willkommen" in m.body]
    assert len(greetings) == 1


async def _joined_patient(system: System, e2e_user, name: str):  # type: ignore[no-untyped-def]
    account = system.add_account("patient", name)
    patient = await e2e_user(account)
    room = account["service_room_id"]
    await patient.wait_for(lambda: room in patient.invites)
    await patient.join(room)
    await patient.wait_for_message(room, "Willkommen")
    return patient, room


async def _bot_device(system: System):  # type: ignore[no-untyped-def]
    bot = system.settings.config.bot_user_id(system.settings.config.bots.service)
    async with system.db.transaction() as conn:
        device = await bot_devices.get(
            conn, UserID(bot), SecretBox(system.settings.secrets.pickle_key)
        )
    assert device is not None
    return bot, device


async def _master_key(system: System, bot: str, token: str) -> dict[str, object]:
    hs = HomeserverClient(system.hs_url, system.settings.secrets.as_token, "x")
    try:
        keys = await hs.request(
            "POST", "/_matrix/client/v3/keys/query", body={"device_keys": {bot: []}}, token=token
        )
    finally:
        await hs.close()
    return dict(keys["master_keys"][bot]["keys"])


async def test_bot_keeps_its_device_across_restart_and_replays_nothing(
    system: System, e2e_user
) -> None:
    patient, room = await _joined_patient(system, e2e_user, "Restart Probe")
    await patient.send_text(room, "hilfe")
    await patient.wait_for_message(room, "Das kann ich für Sie tun")
    _, before = await _bot_device(system)
    assert before.cross_signed_at is not None and before.sync_token

    system.appservice.stop()
    await system.start_appservice()

    _, after = await _bot_device(system)
    assert after.device_id == before.device_id
    hs = HomeserverClient(system.hs_url, system.settings.secrets.as_token, "x")
    try:
        assert (await hs.whoami(after.access_token))["device_id"] == before.device_id
    finally:
        await hs.close()

    await patient.send_text(room, "sprache englisch")
    await patient.wait_for_message(room, "in English from now on")
    await asyncio.sleep(2)
    helps = [m for m in patient.messages if m.room_id == room and "Das kann ich" in m.body]
    greetings = [m for m in patient.messages if m.room_id == room and "Willkommen" in m.body]
    assert len(helps) == 1 and len(greetings) == 1  # nothing answered twice after the restart


async def test_lost_crypto_store_gives_a_new_device_with_the_same_identity(
    system: System, e2e_user
) -> None:
    patient, room = await _joined_patient(system, e2e_user, "Store Loss")
    bot, before = await _bot_device(system)
    master_before = await _master_key(system, bot, before.access_token)

    system.appservice.stop()
    shutil.rmtree(system.settings.bots_dir / system.settings.config.bots.service.localpart)
    await system.start_appservice()

    _, after = await _bot_device(system)
    assert after.device_id != before.device_id
    assert after.cross_signed_at is not None
    assert await _master_key(system, bot, after.access_token) == master_before
    await patient.send_text(room, "hilfe")
    await patient.wait_for_message(room, "Das kann ich für Sie tun")


async def test_bot_credentials_are_not_stored_in_plaintext(system: System) -> None:
    _, device = await _bot_device(system)
    # Synapse access tokens start with syt_
    assert system.files_containing([device.access_token, "syt_"], "messenger.db*") == []


async def test_bot_device_is_cross_signed_for_current_clients(system: System) -> None:
    bot = system.settings.config.bot_user_id(system.settings.config.bots.service)
    hs = HomeserverClient(system.hs_url, system.settings.secrets.as_token, "x")
    try:
        async with system.db.transaction() as conn:
            device = await bot_devices.get(
                conn, UserID(bot), SecretBox(system.settings.secrets.pickle_key)
            )
        assert device is not None
        keys = await hs.request(
            "POST",
            "/_matrix/client/v3/keys/query",
            body={"device_keys": {bot: []}},
            token=device.access_token,
        )
    finally:
        await hs.close()
    self_signing = keys["self_signing_keys"][bot]["keys"]
    (ssk_id,) = self_signing.keys()
    signatures = keys["device_keys"][bot][device.device_id]["signatures"][bot]
    assert ssk_id in signatures
    assert bot in keys["master_keys"]


async def test_bot_recovers_when_its_identity_was_replaced_meanwhile(
    system: System, e2e_user
) -> None:
    """E.g. a data dir restored from an older backup: the server holds another identity that
    replaced ours. The bot must come back (with a fresh identity), not retry forever."""
    patient, room = await _joined_patient(system, e2e_user, "Identity Probe")
    bot, before = await _bot_device(system)
    system.appservice.stop()
    hs = HomeserverClient(system.hs_url, system.settings.secrets.as_token, "x")
    try:
        await cross_sign_device(hs, UserID(bot), before.device_id, None)  # someone else's identity
    finally:
        await hs.close()
    shutil.rmtree(system.settings.bots_dir / system.settings.config.bots.service.localpart)
    await system.start_appservice()

    _, after = await _bot_device(system)
    assert after.cross_signed_at is not None and after.device_id != before.device_id
    await patient.send_text(room, "hilfe")
    await patient.wait_for_message(room, "Das kann ich für Sie tun")
