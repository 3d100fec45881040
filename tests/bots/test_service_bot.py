"""The service bot greets each new patient in an encrypted service room, answers commands, and
keeps its device across restarts of the appservice."""

from __future__ import annotations

from messenger.bridge.homeserver_client import HomeserverClient
from messenger.db.stores import accounts as accounts_store
from messenger.db.stores import bot_devices
from messenger.ids import UserID
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


async def test_bot_keeps_its_device_across_restart_and_still_decrypts(
    system: System, e2e_user
) -> None:
    account = system.add_account("patient", "Restart Probe")
    patient = await e2e_user(account)
    room = account["service_room_id"]
    await patient.wait_for(lambda: room in patient.invites)
    await patient.join(room)
    await patient.wait_for_message(room, "Willkommen")
    bot = system.settings.config.bot_user_id(system.settings.config.bots.service)
    async with system.db.transaction() as conn:
        before = await bot_devices.get(conn, UserID(bot))
    assert before is not None and before.cross_signed_at is not None

    system.appservice.stop()
    await system.start_appservice()

    async with system.db.transaction() as conn:
        after = await bot_devices.get(conn, UserID(bot))
    assert after is not None and after.device_id == before.device_id
    hs = HomeserverClient(system.hs_url, system.settings.secrets.as_token, "x")
    try:
        assert (await hs.whoami(after.access_token))["device_id"] == before.device_id
    finally:
        await hs.close()

    await patient.send_text(room, "hilfe")
    await patient.wait_for_message(room, "Das kann ich für Sie tun")


async def test_bot_device_is_cross_signed_for_current_clients(system: System) -> None:
    bot = system.settings.config.bot_user_id(system.settings.config.bots.service)
    hs = HomeserverClient(system.hs_url, system.settings.secrets.as_token, "x")
    try:
        async with system.db.transaction() as conn:
            device = await bot_devices.get(conn, UserID(bot))
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
