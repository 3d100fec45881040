"""The system under test: a real Synapse and a real `messenger serve`, started from our own CLI
and config generation, on free ports in a temporary data directory."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import aiohttp
import yaml

from messenger.db.database import Database
from messenger.homeserver.synapse_config import REGISTRATION, write_synapse_config
from messenger.settings import Settings, load_settings

FAST_SYNAPSE = {
    "bcrypt_rounds": 4,
    "rc_message": {"per_second": 1000, "burst_count": 1000},
    "rc_registration": {"per_second": 1000, "burst_count": 1000},
    "rc_login": {
        "address": {"per_second": 1000, "burst_count": 1000},
        "account": {"per_second": 1000, "burst_count": 1000},
        "failed_attempts": {"per_second": 1000, "burst_count": 1000},
    },
    "rc_joins": {
        "local": {"per_second": 1000, "burst_count": 1000},
        "remote": {"per_second": 1000, "burst_count": 1000},
    },
    "rc_invites": {
        "per_room": {"per_second": 1000, "burst_count": 1000},
        "per_user": {"per_second": 1000, "burst_count": 1000},
        "per_issuer": {"per_second": 1000, "burst_count": 1000},
    },
    "rc_room_creation": {"per_second": 1000, "burst_count": 1000},
    "rc_key_requests": {"per_second": 1000, "burst_count": 1000},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def messenger_cli(
    *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "messenger", *args],
        capture_output=True,
        text=True,
        check=check,
        timeout=120,
        env={**os.environ, **env} if env is not None else None,
    )


REMOTE_INSURER = "andere-kasse.example"
SSO_CLIENT = "http://app.example/"


class TimestampService:
    """A test-only appservice (no URL: it receives nothing) allowed to act as any user, only
    to send events with an old `origin_server_ts` — Matrix's timestamp massaging, the way an
    importer writes history. It stands in for months passing; the system under test sees the
    events exactly as it sees any other."""

    TOKEN = "test-timestamps-as-token"

    @classmethod
    def write(cls, data_dir: Path) -> Path:
        path = data_dir / "test-timestamps-registration.yaml"
        path.write_text(yaml.safe_dump({
            "id": "test-timestamps", "url": None, "as_token": cls.TOKEN,
            "hs_token": "test-timestamps-hs-token", "sender_localpart": "test-timestamps",
            "rate_limited": False,
            "namespaces": {"users": [{"exclusive": False, "regex": "@.*"}], "rooms": [],
                           "aliases": []},
        }))  # fmt: skip
        return path

    @classmethod
    async def send(
        cls, hs_url: str, room: str, sender: str, event_type: str, content: dict[str, Any],
        ts: int,
    ) -> str:  # fmt: skip
        txn = uuid.uuid4().hex
        status, body = await json_request(
            "PUT",
            f"{hs_url}/_matrix/client/v3/rooms/{room}/send/{event_type}/{txn}"
            f"?user_id={quote(sender)}&ts={ts}",
            cls.TOKEN, content,
        )  # fmt: skip
        assert status == 200, body
        return str(body["event_id"])


async def json_request(
    method: str, url: str, token: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    """One HTTP call with a bearer token: (status, JSON body)."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method, url, json=body, headers={"Authorization": f"Bearer {token}"}
        ) as response,
    ):
        return response.status, await response.json(content_type=None)


async def admin_token(system: System) -> str:
    """The admin token our CLI uses (Synapse's admin API), for tests that check Synapse."""
    from messenger.bridge.admin_account import admin_token as token_of
    from messenger.bridge.homeserver_client import HomeserverClient

    cfg = system.settings.config
    async with HomeserverClient(
        system.hs_url, system.settings.secrets.as_token, cfg.appservice.id
    ) as hs:
        return await token_of(system.settings, hs)


def init_data_dir(
    data_dir: Path, extra: dict[str, Any] | None = None, overrides: dict[str, Any] | None = None,
    scaled: dict[str, Any] | None = None, server_name: str = "localhost",
) -> Settings:  # fmt: skip
    messenger_cli(
        "init",
        "--data-dir",
        str(data_dir),
        "--server-name",
        server_name,
        "--port",
        str(free_port()),
        "--appservice-port",
        str(free_port()),
    )
    path = data_dir / "messenger.yaml"
    config = yaml.safe_load(path.read_text())
    clock = TimestampService.write(data_dir)
    config["homeserver"]["extra"] = {
        **FAST_SYNAPSE,
        # ours plus a test-only appservice that can back-date events (`?ts=`, see below)
        "app_service_config_files": [str(data_dir / "synapse" / REGISTRATION), str(clock)],
        **(extra or {}),
    }
    # a redacted event's original is pruned at Synapse's next 5-minute check
    config["homeserver"]["redaction_retention_period"] = "1s"
    # small limits so the tests reach them; a remote insurer domain for the federation rule
    config["chat_requests"] = {"max_open_per_patient": 2, "max_per_day": 3}
    # the tests' events come in small bursts, each waited for: a shorter transaction window than
    # deployments run (1s) keeps those waits short; the pace itself works the same
    config["appservice"]["transaction_window"] = "250ms"
    config["policy"] = {"insurer_domains": [REMOTE_INSURER]}
    # the daily jobs' wall-clock times 12 hours away: the tests run those jobs by hand, and a
    # scheduled run in the middle of a test (leave prompts at 09:00 Berlin) takes its work
    away = (dt.datetime.now(ZoneInfo("Europe/Berlin")) + dt.timedelta(hours=12)).strftime("%H:%M")
    config["retention"] = {**config.get("retention", {}), "leave_prompts_at": away}
    config["accounts"] = {**config.get("accounts", {}), "coverage_check_at": away}
    config["desk"] = {
        "canned": {"eingang": "Vielen Dank, Ihre Unterlagen sind eingegangen."},
        "purge_at": away,
    }
    # login through a test identity provider (tests/oidc_idp.py), started by the OIDC test
    idp = f"http://127.0.0.1:{free_port()}"
    secret = data_dir / "secrets" / "oidc_client_secret"
    secret.write_text("test-client-secret")
    config["oidc"] = {
        "issuer": idp + "/", "client_id": "messenger", "client_secret_path": str(secret),
        "scopes": ["profile"], "discover": False, "user_profile_method": "userinfo_endpoint",
        "authorization_endpoint": idp + "/authorize", "token_endpoint": idp + "/token",
        "userinfo_endpoint": idp + "/userinfo", "skip_verification": True,
    }  # fmt: skip
    config["homeserver"]["extra"]["sso"] = {"client_whitelist": [SSO_CLIENT]}
    config.update(overrides or {})
    if scaled is not None:
        config["homeserver"]["scaled"] = scaled
    path.write_text(yaml.safe_dump(config))
    return load_settings(data_dir)


async def wait_http(url: str, timeout: float = 60, expect: Any = None) -> Any:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                    if response.status == 200:
                        text = await response.text()
                        body = json.loads(text) if text.startswith("{") else text
                        if expect is None or expect(body):
                            return body
            except (aiohttp.ClientError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} not ready in {timeout} s")
            await asyncio.sleep(0.3)


class Process:
    def __init__(self, argv: list[str], log: Path) -> None:
        self.argv = argv
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


class System:
    """Synapse + appservice for the test session."""

    def __init__(
        self,
        data_dir: Path,
        extra: dict[str, Any] | None = None,
        overrides: dict[str, Any] | None = None,
        scaled: dict[str, Any] | None = None,
        server_name: str = "localhost",
    ) -> None:
        self.data_dir = data_dir
        self.settings = init_data_dir(data_dir, extra, overrides, scaled, server_name)
        cfg = self.settings.config
        self.hs_url = cfg.homeserver.client_url
        self.as_url = cfg.appservice.url
        self.synapse = Process(
            write_synapse_config(self.settings), data_dir / "logs" / "synapse.stdout.log"
        )
        self.appservice = Process(
            [sys.executable, "-m", "messenger", "serve", "--data-dir", str(data_dir)],
            data_dir / "logs" / "appservice.stdout.log",
        )
        self.db = Database(self.settings.database_url)

    async def start(self) -> None:
        self.synapse.start()
        await wait_http(self.hs_url + "/health")
        await self.start_appservice()

    async def start_appservice(self) -> None:
        self.appservice.start()
        await wait_http(
            self.as_url + "/_messenger/health",
            timeout=90,
            expect=lambda body: all(state == "ready" for state in body["bots"].values()),
        )

    async def stop(self) -> None:
        self.appservice.stop()
        self.synapse.stop()
        await self.db.close()

    def configure(self, section: str, key: str, value: Any) -> None:
        """Change one key of messenger.yaml (read by the processes started after this) and of
        `settings`."""
        path = self.data_dir / "messenger.yaml"
        config = yaml.safe_load(path.read_text())
        config.setdefault(section, {})[key] = value
        path.write_text(yaml.safe_dump(config))
        cfg = self.settings.config
        part = getattr(cfg, section).model_copy(update={key: value})
        self.settings = type(self.settings)(
            self.settings.data_dir, cfg.model_copy(update={section: part}), self.settings.secrets
        )

    async def policy_status(self) -> dict[str, Any]:
        """What our Synapse module reports (rules, decisions, the facts it follows)."""
        from messenger.policy.paths import STATUS_PATH

        status, body = await json_request("GET", self.hs_url + STATUS_PATH, "")
        assert status == 200, body
        return dict(body)

    async def policy_caught_up(self, timeout: float = 30) -> dict[str, Any]:
        """Wait until the module follows the policy-change log up to what the database holds
        now (every change committed so far is in its memory); returns its status."""
        from messenger.db.stores import policy_changes

        async with self.db.reading() as conn:
            tick, _pruned = await policy_changes.clock(conn)

        async def caught_up() -> dict[str, Any]:
            while True:
                status = await self.policy_status()
                if status["facts"]["following"] and status["facts"]["tick"] >= tick:
                    return status
                await asyncio.sleep(0.05)

        return await asyncio.wait_for(caught_up(), timeout)

    def add_account(self, role: str, name: str, *extra: str) -> dict[str, Any]:
        result = messenger_cli(
            "accounts",
            "add",
            "--data-dir",
            str(self.data_dir),
            "--role",
            role,
            "--display-name",
            name,
            "--json",
            *extra,
        )
        account: dict[str, Any] = json.loads(result.stdout)
        return account

    def add_listed_practice(
        self, name: str, specialty: str = "Allgemeinmedizin", *, postcode: str = "10115",
        city: str = "Berlin", visible: bool = True,
    ) -> dict[str, Any]:  # fmt: skip
        """A practice account with its own directory entry (its own import source)."""
        account = self.add_account("practice", name)
        source = "test-" + account["user_id"][1:].split(":")[0]
        csv_file = self.data_dir / f"{source}.csv"
        csv_file.write_text(
            "id,matrix_id,name,specialty,street,postcode,city,visible,active\n"
            f"{source},{account['user_id']},{name},{specialty},Hauptstr. 1,{postcode},{city},"
            f"{'true' if visible else 'false'},true\n",
            encoding="utf-8",
        )
        messenger_cli(
            "directory", "import", str(csv_file), "--source", source,
            "--data-dir", str(self.data_dir), "--json",
        )  # fmt: skip
        return account

    async def admin_api(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                method,
                self.as_url + "/_messenger/admin/v1" + path,
                json=body,
                headers={"Authorization": f"Bearer {self.settings.secrets.admin_api_token}"},
            ) as response,
        ):
            return response.status, await response.json(content_type=None)

    def files_containing(self, needles: list[str], pattern: str = "**/*") -> list[str]:
        """Files of the data dir (glob `pattern`) that contain any needle, as "path: needle".

        Read in a child process: closing another descriptor of a SQLite file in this process
        would drop the POSIX locks of our own open connections (SQLite's documented caveat)."""
        return scan_files(self.data_dir, needles, pattern)


_SCAN = """
import json, pathlib, sys
root, pattern, needles = pathlib.Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
for path in sorted(root.glob(pattern)):
    if path.is_file():
        data = path.read_bytes()
        for needle in needles:
            if needle.encode() in data:
                print(f"{path}: {needle}")
"""


def scan_files(root: Path, needles: list[str], pattern: str = "**/*") -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", _SCAN, str(root), pattern, json.dumps(needles)],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return result.stdout.splitlines()


def postgres_url() -> str | None:
    return os.environ.get("MESSENGER_TEST_POSTGRES_URL") or None
