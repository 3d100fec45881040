"""The scaled deployment's generated files: every process on its own loopback port, the shared
settings tie them together, and nginx accepts the config generated from the same map."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from messenger.homeserver.proxy import BY_ROOM, BY_USER, write_nginx_config
from messenger.homeserver.workers import InstanceError, instance_port, shared_settings, worker_map
from messenger.settings import generate_secrets, load_settings

SCALED = {"synapse_database": "postgresql://synapse:geheim@db.internal:5433/synapse",
          "client_workers": 3, "internal_port": 20100}  # fmt: skip


def _settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    generate_secrets(tmp_path)
    (tmp_path / "messenger.yaml").write_text(yaml.safe_dump({
        "homeserver": {"port": 20000, "scaled": SCALED},
        "database": {"url": "postgresql+asyncpg://m@db.internal/messenger"},
    }))  # fmt: skip
    return load_settings(tmp_path)


def test_every_process_has_its_own_port_and_the_shared_settings_name_them(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    workers = worker_map(settings.config.homeserver.scaled)  # type: ignore[arg-type]
    ports = [workers.main_client_port, workers.main_replication_port] + [
        w.port for w in workers.workers
    ]
    assert len(set(ports)) == len(ports) == 2 + 3 + 3 and min(ports) == 20100
    shared = shared_settings(settings, workers)
    assert shared["database"] == {
        "name": "psycopg2",
        "args": {"database": "synapse", "host": "db.internal", "port": 5433, "cp_min": 2,
                 "cp_max": 10, "user": "synapse", "password": "geheim"},
    }  # fmt: skip
    assert shared["stream_writers"] == {"events": ["event_persister1"]}
    assert shared["instance_map"]["event_persister1"]["port"] == workers.one("persister").port
    assert shared["notify_appservices_from_worker"] == "appservice_notifier1"
    assert shared["run_background_tasks_on"] == "background_worker1"
    assert shared["redis"]["enabled"] is True
    assert all(lis["bind_addresses"] == ["127.0.0.1"] for lis in shared["listeners"])


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed (apt install nginx)")
def test_nginx_accepts_the_generated_config(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    argv = write_nginx_config(settings)
    checked = subprocess.run(
        [argv[0], "-t", *argv[1:5]], capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stderr
    text = Path(argv[4]).read_text()
    assert text.count("server 127.0.0.1:") == 1 + 2 * 3  # main, then the clients twice
    assert all(pattern in text for pattern in BY_USER + BY_ROOM)
    assert "listen 127.0.0.1:20000;" in text


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed (apt install nginx)")
def test_two_appservice_processes_get_ports_after_the_workers_and_a_front_in_nginx(
    tmp_path: Path,
) -> None:
    SCALED["appservice_processes"] = 2
    try:
        settings = _settings(tmp_path)
    finally:
        del SCALED["appservice_processes"]
    workers = worker_map(settings.config.homeserver.scaled)  # type: ignore[arg-type]
    assert workers.appservice_ports == (20108, 20109)  # main 2 + 3 + 3 client workers
    assert [instance_port(settings, n) for n in (None, 1, 2)] == [29330, 20108, 20109]
    with pytest.raises(InstanceError, match="appservice processes 1 to 2"):
        instance_port(settings, 3)
    argv = write_nginx_config(settings)
    checked = subprocess.run(
        [argv[0], "-t", *argv[1:5]], capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stderr
    text = Path(argv[4]).read_text()
    assert "listen 127.0.0.1:29330;" in text
    assert "server 127.0.0.1:20108 " in text and "server 127.0.0.1:20109 " in text


def test_one_appservice_process_listens_itself(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert worker_map(settings.config.homeserver.scaled).appservice_ports == ()  # type: ignore[arg-type]
    with pytest.raises(InstanceError, match="one appservice process"):
        instance_port(settings, 1)
    assert "29330" not in Path(write_nginx_config(settings)[4]).read_text()
