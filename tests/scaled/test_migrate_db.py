"""`messenger migrate-db`: an embedded deployment with an end-to-end encrypted chat moves to
PostgreSQL and comes back up scaled; the clients (same devices, same keys) decrypt every
message of the history and chat on; our own data (the room registry) came along."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from nio import AsyncClient, AsyncClientConfig, MessageDirection, RoomMessagesResponse
from nio.events import RoomMessageText
from sqlalchemy.engine import make_url

from messenger.db.database import Database
from messenger.db.stores import registry
from messenger.homeserver.postgres import drop_database
from tests.e2e_client import E2EUser
from tests.scaled_system import (
    CLIENT_WORKERS,
    PROCESS_PORTS,
    free_port_block,
    missing,
    wait_up,
)
from tests.system import Process, System, messenger_cli, postgres_url

MESSAGES = 8  # per side


async def history(homeserver: str, user: E2EUser, store: Path, room: str) -> list[str]:
    """Every text of the room as a client with the user's device (keys from its store)
    reads it back through /messages."""
    client = AsyncClient(
        homeserver, user.user_id, store_path=str(store),
        config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
    )  # fmt: skip
    client.restore_login(user.user_id, user.client.device_id, user.client.access_token)
    texts: list[str] = []
    token: str | None = None
    try:
        while True:
            page = await client.room_messages(
                room, start=token, direction=MessageDirection.back, limit=100
            )
            assert isinstance(page, RoomMessagesResponse), page
            texts += [e.body for e in page.chunk if isinstance(e, RoomMessageText)]
            if not page.chunk or not page.end:
                return texts
            token = page.end
    finally:
        await client.close()


@pytest.mark.skipif(missing() is not None, reason=f"scaled deployment: {missing()}")
async def test_an_embedded_deployment_moves_to_postgres_and_every_message_still_decrypts(
    tmp_path: Path,
) -> None:
    tag = uuid.uuid4().hex[:10]
    data = tmp_path / "data"
    embedded = System(data, server_name=f"moved-{tag}.test")
    await embedded.start()
    stores = {name: tmp_path / f"store-{name}" for name in ("patient", "practice")}
    try:
        patient = E2EUser(embedded.hs_url, **_login(embedded.add_account("patient", "Eva Umzug")),
                          store=stores["patient"])  # fmt: skip
        practice_account = embedded.add_listed_practice("Praxis Umzug")
        practice = E2EUser(embedded.hs_url, **_login(practice_account), store=stores["practice"])
        await patient.login()
        await practice.login()
        room = await patient.open_chat_with(practice)
        sent = []
        for number in range(MESSAGES):
            for sender, receiver in ((patient, practice), (practice, patient)):
                text = f"vor dem Umzug {number} von {sender.user_id} {uuid.uuid4().hex}"
                await sender.send_text(room, text)
                await receiver.wait_for_message(room, text)
                sent.append(text)
        await patient.close()
        await practice.close()
    finally:
        await embedded.stop()

    base = make_url(postgres_url() or "")
    synapse_url = base.set(drivername="postgresql", database=f"synapse_moved_{tag}")
    ours_url = base.set(drivername="postgresql+asyncpg", database=f"messenger_moved_{tag}")
    urls = [u.render_as_string(hide_password=False) for u in (synapse_url, ours_url)]
    config_file = data / "messenger.yaml"
    config = yaml.safe_load(config_file.read_text())
    config["homeserver"]["scaled"] = {
        "synapse_database": urls[0],
        "internal_port": free_port_block(PROCESS_PORTS),
        "client_workers": CLIENT_WORKERS,
    }
    config["database"] = {"url": urls[1]}
    config_file.write_text(yaml.safe_dump(config))
    up = Process([sys.executable, "-m", "messenger", "up", "--data-dir", str(data)],
                 data / "logs" / "up.stdout.log")  # fmt: skip
    ours = Database(urls[1])
    try:
        # before the move, the scaled start is refused (it would start empty beside the data)
        refused = messenger_cli("up", "--data-dir", str(data), check=False)
        assert refused.returncode != 0 and "migrate-db" in refused.stderr

        moved = messenger_cli("migrate-db", "--data-dir", str(data), "--json")
        summary = json.loads(moved.stdout)
        assert summary["synapse"] == "moved" and summary["messenger"]["rows"] > 0
        again = messenger_cli("migrate-db", "--data-dir", str(data), check=False)
        assert again.returncode != 0 and "nothing to move" in again.stderr

        up.start()
        await wait_up(up, embedded.hs_url, embedded.as_url)

        for user, store in ((patient, stores["patient"]), (practice, stores["practice"])):
            texts = await history(embedded.hs_url, user, store, room)
            assert sorted(texts) == sorted(sent)

        async with ours.reading() as conn:
            row = await registry.get_room(conn, room)
        assert row is not None and row.kind == "care" and row.message_count >= 2 * MESSAGES

        # and the chat goes on, on the scaled deployment, with the same devices
        patient_after = await _resume(embedded.hs_url, patient, stores["patient"])
        practice_after = await _resume(embedded.hs_url, practice, stores["practice"])
        try:
            await patient_after.send_text(room, "nach dem Umzug")
            try:
                await practice_after.wait_for_message(room, "nach dem Umzug", timeout=90)
            except TimeoutError:
                raise AssertionError(
                    f"not received; undecryptable: {practice_after.undecryptable}, texts: "
                    f"{[m.body for m in practice_after.messages][-3:]}"
                ) from None
        finally:
            await patient_after.close()
            await practice_after.close()
    finally:
        up.stop()
        if up.proc is not None:
            await asyncio.to_thread(up.proc.wait, 180)
        await ours.close()
        for url in urls:
            drop_database(url)
        shutil.rmtree(data / "run", ignore_errors=True)


def _login(account: dict[str, str]) -> dict[str, str]:
    return {"user_id": account["user_id"], "password": account["password"]}


async def _resume(homeserver: str, user: E2EUser, store: Path) -> E2EUser:
    """The same device again (its store, its access token), syncing as before."""
    again = E2EUser(homeserver, user.user_id, "", store)
    again.client.restore_login(user.user_id, user.client.device_id, user.client.access_token)
    await again.start()
    return again
