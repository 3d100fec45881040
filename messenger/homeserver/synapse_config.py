"""Generate Synapse's configuration.

A homeserver.yaml made once by Synapse itself (signing key, macaroon/form secrets), plus our
overlay and the appservice registration, rewritten at each start from messenger.yaml. Nobody edits
Synapse's files by hand; `homeserver.extra` is the escape hatch.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from messenger.bridge.thirdparty import PROTOCOL
from messenger.homeserver.workers import shared_settings, worker_map, worker_settings
from messenger.settings import Settings

OVERLAY = "messenger-overlay.yaml"
REGISTRATION = "appservice-registration.yaml"
LOG_CONFIG = "log.config"
BASE = "homeserver.yaml"


def write_private(path: Path, data: dict[str, Any], header: str) -> None:
    text = header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    descriptor = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(path.with_suffix(".tmp"), path)


def registration(settings: Settings) -> dict[str, Any]:
    """The appservice registration: our bots exclusively, and interest in every room's events
    (envelopes only) so that the room registry sees care chats without a bot in them."""
    cfg = settings.config
    prefix = re.escape(cfg.appservice.namespace_prefix)
    server = re.escape(cfg.homeserver.server_name)
    return {
        "id": cfg.appservice.id,
        "url": cfg.appservice.url,
        "as_token": settings.secrets.as_token,
        "hs_token": settings.secrets.hs_token,
        "sender_localpart": cfg.appservice.namespace_prefix + "appservice",
        "rate_limited": False,
        "protocols": [PROTOCOL],
        "namespaces": {
            "users": [{"exclusive": True, "regex": f"@{prefix}.*:{server}$"}],
            "aliases": [{"exclusive": True, "regex": f"#{prefix}.*:{server}$"}],
            "rooms": [{"exclusive": False, "regex": "!.*"}],
        },
    }


def log_config(settings: Settings, process: str = "synapse") -> dict[str, Any]:
    """Logging of one Synapse process into logs/<process>.log (each worker its own file)."""
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    return {
        "version": 1,
        "formatters": {
            "precise": {
                "format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - "
                "%(request)s - %(message)s"
            }
        },
        "handlers": {
            "file": {
                "class": "logging.handlers.RotatingFileHandler",
                "formatter": "precise",
                "filename": str(settings.log_dir / f"{process}.log"),
                "maxBytes": 50 * 1024 * 1024,
                "backupCount": 5,
                "filters": ["context"],
                "encoding": "utf8",
            },
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "precise",
                "filters": ["context"],
                "level": "WARNING",
            },
        },
        "filters": {
            "context": {"()": "synapse.logging.context.LoggingContextFilter", "request": ""}
        },
        "loggers": {"synapse.storage.SQL": {"level": "INFO"}},
        "root": {"level": "INFO", "handlers": ["file", "console"]},
        "disable_existing_loggers": False,
    }


def overlay(settings: Settings, scaled: bool = True) -> dict[str, Any]:
    """Our settings for Synapse; with `scaled` false, those of the embedded deployment even
    when the scaled one is configured (migrate-db runs the SQLite one once more)."""
    hs = settings.config.homeserver
    synapse_dir = settings.synapse_dir
    resources = ["client"] + (["federation"] if hs.federation else [])
    data: dict[str, Any] = {
        "server_name": hs.server_name,
        "public_baseurl": hs.public_url,
        "listeners": [
            {
                "port": hs.port,
                "bind_addresses": [hs.bind_address],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": resources, "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(synapse_dir / "homeserver.db")}},
        "log_config": str(synapse_dir / LOG_CONFIG),
        "media_store_path": str(synapse_dir / "media_store"),
        "pid_file": str(synapse_dir / "homeserver.pid"),
        "report_stats": False,
        "registration_shared_secret": settings.secrets.registration_shared_secret,
        "enable_registration": False,
        "app_service_config_files": [str(synapse_dir / REGISTRATION)],
        "encryption_enabled_by_default_for_room_type": "all",
        "default_room_version": "10",
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "url_preview_enabled": False,
        "limit_profile_requests_to_users_who_share_rooms": True,
        "require_auth_for_profile_requests": True,
        "redaction_retention_period": hs.redaction_retention_period,
        "retention": {
            "enabled": True,
            "allowed_lifetime_min": "1d",
            "allowed_lifetime_max": hs.retention_max_lifetime,
            "purge_jobs": [
                {"longest_max_lifetime": "30d", "interval": "12h"},
                {"shortest_max_lifetime": "30d", "interval": "1d"},
            ],
        },
        # all users are searchable, and the policy module lets through only practices that are
        # visible in the provider directory (never patients)
        "user_directory": {"enabled": True, "search_all_users": True},
        "modules": [
            {
                "module": "messenger.policy.PolicyModule",
                "config": {
                    "appservice_id": settings.config.appservice.id,
                    "bot_prefix": settings.config.appservice.namespace_prefix,
                    "appservice_url": settings.config.appservice.url,
                    "as_token": settings.secrets.as_token,
                    "hs_token": settings.secrets.hs_token,
                    "insurer_domains": list(settings.config.policy.insurer_domains),
                },
            }
        ],
    }
    if not hs.federation:
        data["federation_domain_whitelist"] = []
    if hs.scaled is not None and scaled:
        data.update(shared_settings(settings, worker_map(hs.scaled)))
    oidc = settings.config.oidc
    if oidc is not None:
        data["oidc_providers"] = [oidc_provider(settings)]
        data["password_config"] = {"enabled": oidc.password_login}
    data.update(hs.extra)
    return data


def oidc_provider(settings: Settings) -> dict[str, Any]:
    """The insurer's IdP for Synapse: a login maps the IdP's subject to the account it was
    linked to at provisioning (Synapse's external ids); nobody is registered through it, and
    no existing account is taken over by a matching user name."""
    oidc = settings.config.oidc
    assert oidc is not None
    secret = Path(oidc.client_secret_path)
    provider: dict[str, Any] = {
        "idp_id": oidc.idp_id,
        "idp_name": oidc.idp_name,
        "issuer": oidc.issuer,
        "client_id": oidc.client_id,
        "client_secret_path": str(secret if secret.is_absolute() else settings.data_dir / secret),
        "scopes": list(oidc.scopes),
        "discover": oidc.discover,
        "user_profile_method": oidc.user_profile_method,
        "enable_registration": False,
        "allow_existing_users": False,
        "user_mapping_provider": {"config": {"subject_claim": oidc.subject_claim}},
    }
    if oidc.skip_verification:
        provider["skip_verification"] = True
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        if getattr(oidc, name) is not None:
            provider[name] = getattr(oidc, name)
    return provider


def generate_base(settings: Settings) -> None:
    """Let Synapse generate its own homeserver.yaml and signing key, once."""
    synapse_dir = settings.synapse_dir
    synapse_dir.mkdir(parents=True, exist_ok=True)
    if (synapse_dir / BASE).exists():
        return
    subprocess.run(
        [
            sys.executable,
            "-m",
            "synapse.app.homeserver",
            "--server-name",
            settings.config.homeserver.server_name,
            "--config-path",
            str(synapse_dir / BASE),
            "--data-directory",
            str(synapse_dir),
            "--generate-config",
            "--report-stats=no",
        ],
        check=True,
        capture_output=True,
    )


HEADER = "# Generated by messenger from messenger.yaml at every start. Do not edit.\n"


def write_registration(settings: Settings) -> Path:
    """The appservice registration file; Synapse lists it in `app_service_config_files`."""
    settings.synapse_dir.mkdir(parents=True, exist_ok=True)
    path = settings.synapse_dir / REGISTRATION
    write_private(path, registration(settings), HEADER)
    return path


@dataclass(frozen=True)
class SynapseProcess:
    name: str  # synapse (the main process) or the worker's name
    argv: list[str]
    health_url: str


def write_synapse_config(settings: Settings) -> list[str]:
    """Write everything Synapse needs; return the command that runs it (its main process)."""
    generate_base(settings)
    synapse_dir = settings.synapse_dir
    write_registration(settings)
    write_private(synapse_dir / LOG_CONFIG, log_config(settings), HEADER)
    write_private(synapse_dir / OVERLAY, overlay(settings), HEADER)
    return [sys.executable, "-m", "synapse.app.homeserver", *_config_paths(settings)]


def _config_paths(settings: Settings) -> list[str]:
    return ["--config-path", str(settings.synapse_dir / BASE),
            "--config-path", str(settings.synapse_dir / OVERLAY)]  # fmt: skip


def write_scaled_config(settings: Settings) -> list[SynapseProcess]:
    """The scaled deployment: the main process, then every worker (each with its own file
    and log), in the order they start."""
    scaled = settings.config.homeserver.scaled
    assert scaled is not None
    workers = worker_map(scaled)
    processes = [
        SynapseProcess(
            "synapse",
            write_synapse_config(settings),
            f"http://127.0.0.1:{workers.main_client_port}/health",
        )
    ]
    folder = settings.synapse_dir / "workers"
    folder.mkdir(parents=True, exist_ok=True)
    for worker in workers.workers:
        logging_path = folder / f"{worker.name}.log.config"
        write_private(logging_path, log_config(settings, f"synapse-{worker.name}"), HEADER)
        path = folder / f"{worker.name}.yaml"
        write_private(path, worker_settings(worker, str(logging_path)), HEADER)
        argv = [sys.executable, "-m", "synapse.app.generic_worker", *_config_paths(settings),
                "--config-path", str(path)]  # fmt: skip
        processes.append(
            SynapseProcess(worker.name, argv, f"http://127.0.0.1:{worker.port}/health")
        )
    return processes
