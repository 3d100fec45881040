"""`messenger up`: one command runs everything; Ctrl-C stops every process; data survives."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from messenger.bridge.homeserver_client import HomeserverClient
from messenger.supervisor import pid_alive
from tests.system import init_data_dir, messenger_cli, wait_http


async def _run_up(data_dir: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "messenger", "up", "--data-dir", str(data_dir)],
        stdout=open(data_dir / "up.out", "ab"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    status = None
    for _ in range(240):
        result = messenger_cli("status", "--data-dir", str(data_dir), "--json", check=False)
        if result.returncode == 0:
            status = json.loads(result.stdout)
            bots = status["appservice"]["detail"]["bots"]
            if all(state == "ready" for state in bots.values()):
                break
        await asyncio.sleep(0.5)
    assert status is not None, (data_dir / "up.out").read_text()
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    assert process.wait(60) == 0


async def test_up_runs_everything_and_ctrl_c_stops_it_and_data_survives(tmp_path: Path) -> None:
    settings = init_data_dir(tmp_path)
    process = await _run_up(tmp_path)
    state = json.loads((tmp_path / "run" / "up.json").read_text())
    children = state["children"]
    assert set(children) == {"synapse", "appservice"}
    status = json.loads(messenger_cli("status", "--data-dir", str(tmp_path), "--json").stdout)
    assert status["homeserver"]["healthy"] and status["appservice"]["healthy"]
    account = json.loads(
        messenger_cli(
            "accounts",
            "add",
            "--data-dir",
            str(tmp_path),
            "--role",
            "agent",
            "--display-name",
            "Agentin Anna",
            "--json",
        ).stdout
    )
    output = (tmp_path / "up.out").read_text()
    assert settings.config.homeserver.public_url in output and str(tmp_path) in output

    # supervision: a child that dies is started again
    os.kill(children["appservice"], signal.SIGKILL)
    for _ in range(120):
        await asyncio.sleep(0.5)
        restarted = json.loads((tmp_path / "run" / "up.json").read_text())["children"]
        if restarted["appservice"] != children["appservice"]:
            break
    assert restarted["appservice"] != children["appservice"]
    await wait_http(settings.config.appservice.url + "/_messenger/health")
    children = restarted

    _stop(process)
    for pid in children.values():
        assert not pid_alive(pid)
    assert not (tmp_path / "run" / "up.json").exists()
    down = messenger_cli("status", "--data-dir", str(tmp_path), check=False)
    assert down.returncode == 1 and "DOWN" in down.stdout

    process = await _run_up(tmp_path)
    try:
        await wait_http(settings.config.homeserver.client_url + "/health")
        listed = json.loads(
            messenger_cli("accounts", "list", "--data-dir", str(tmp_path), "--json").stdout
        )
        assert [a["user_id"] for a in listed] == [account["user_id"]]
        hs = HomeserverClient(settings.config.homeserver.client_url, "unused", "x")
        try:
            token = await hs.password_login(
                account["user_id"][1:].split(":")[0], account["password"], "t"
            )
            assert (await hs.whoami(token))["user_id"] == account["user_id"]
        finally:
            await hs.close()
    finally:
        _stop(process)
