"""The scaled deployment's Synapse: the main process and its workers on loopback ports, the
settings they share (PostgreSQL, Redis, instance map, stream writers, which worker notifies the
appservice and which runs background tasks) and each worker's own file.

Which client paths each worker serves is the proxy's business (messenger/homeserver/proxy.py);
both read the same WorkerMap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from messenger.config import ScaledSection
from messenger.settings import Settings

Role = Literal["persister", "appservice", "background", "client"]
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Worker:
    name: str
    role: Role
    port: int  # its one HTTP listener: client API (client workers) or replication

    @property
    def resources(self) -> list[str]:
        return ["client"] if self.role == "client" else ["replication"]


@dataclass(frozen=True)
class WorkerMap:
    main_client_port: int
    main_replication_port: int
    workers: tuple[Worker, ...]
    # our appservice's processes behind the proxy (none: one process on appservice.port)
    appservice_ports: tuple[int, ...] = ()

    def of(self, role: Role) -> list[Worker]:
        return [worker for worker in self.workers if worker.role == role]

    def one(self, role: Role) -> Worker:
        return self.of(role)[0]


def worker_map(scaled: ScaledSection) -> WorkerMap:
    base = scaled.internal_port
    clients: list[tuple[str, Role]] = [
        (f"client_worker{n}", "client") for n in range(1, scaled.client_workers + 1)
    ]
    roles: list[tuple[str, Role]] = [
        ("event_persister1", "persister"),
        ("appservice_notifier1", "appservice"),
        ("background_worker1", "background"),
        *clients,
    ]
    workers = tuple(Worker(name, role, base + 2 + i) for i, (name, role) in enumerate(roles))
    ours = scaled.appservice_processes
    first = base + 2 + len(roles)
    appservice_ports = tuple(range(first, first + ours)) if ours > 1 else ()
    return WorkerMap(base, base + 1, workers, appservice_ports)


def synapse_database(scaled: ScaledSection) -> dict[str, Any]:
    """Synapse's `database` setting (psycopg2) from the configured URL."""
    url = urlsplit(scaled.synapse_database)
    args: dict[str, Any] = {
        "database": url.path.lstrip("/"),
        "host": url.hostname or LOOPBACK,
        "port": url.port or 5432,
        "cp_min": 2,
        "cp_max": 10,
    }
    if url.username:
        args["user"] = unquote(url.username)
    if url.password:
        args["password"] = unquote(url.password)
    return {"name": "psycopg2", "args": args}


def shared_settings(settings: Settings, workers: WorkerMap) -> dict[str, Any]:
    """What the main process and every worker read (merged into the generated overlay)."""
    hs = settings.config.homeserver
    assert hs.scaled is not None
    persister = workers.one("persister")
    main_resources = ["client"] + (["federation"] if hs.federation else [])
    return {
        "database": synapse_database(hs.scaled),
        "redis": {"enabled": True, "host": hs.scaled.redis_host, "port": hs.scaled.redis_port},
        "listeners": [
            {
                "port": workers.main_client_port,
                "bind_addresses": [LOOPBACK],
                "type": "http",
                "tls": False,
                "x_forwarded": True,  # behind the proxy
                "resources": [{"names": main_resources, "compress": False}],
            },
            {
                "port": workers.main_replication_port,
                "bind_addresses": [LOOPBACK],
                "type": "http",
                "resources": [{"names": ["replication"]}],
            },
        ],
        "instance_map": {
            "main": {"host": LOOPBACK, "port": workers.main_replication_port},
            persister.name: {"host": LOOPBACK, "port": persister.port},
        },
        "stream_writers": {"events": [persister.name]},
        "notify_appservices_from_worker": workers.one("appservice").name,
        "run_background_tasks_on": workers.one("background").name,
    }


def worker_settings(worker: Worker, log_config_path: str) -> dict[str, Any]:
    """One worker's own file, read after the shared ones."""
    return {
        "worker_app": "synapse.app.generic_worker",
        "worker_name": worker.name,
        "worker_listeners": [
            {
                "type": "http",
                "port": worker.port,
                "bind_addresses": [LOOPBACK],
                "x_forwarded": True,
                "resources": [{"names": worker.resources, "compress": False}],
            }
        ],
        "worker_log_config": log_config_path,
    }


class InstanceError(ValueError):
    pass


def instance_port(settings: Settings, instance: int | None) -> int:
    """Where appservice process `instance` (1-based) listens: behind the proxy when the scaled
    deployment runs several; otherwise appservice.port."""
    if instance is None:
        return settings.config.appservice.port
    scaled = settings.config.homeserver.scaled
    ports = worker_map(scaled).appservice_ports if scaled is not None else ()
    if not 1 <= instance <= len(ports):
        raise InstanceError(
            f"--instance {instance}: this deployment runs "
            + (f"appservice processes 1 to {len(ports)}" if ports else "one appservice process")
            + " (homeserver.scaled.appservice_processes)"
        )
    return ports[instance - 1]
