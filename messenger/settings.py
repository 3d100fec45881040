"""Settings: what a process is given - its data dir, the parsed configuration (config.py) and
the secrets beside it.

Secrets come from, in order: the environment (MESSENGER_<NAME>), a file named by
`secrets.<name>_path`, <data dir>/secrets/<name>. A missing or empty one is a ConfigError that
names it and how to make it.
"""

from __future__ import annotations

import os
import secrets as _random
from dataclasses import dataclass
from pathlib import Path

from messenger.config import (
    SECRET_NAMES,
    ConfigError,
    MessengerConfig,
    SecretsSection,
    load_config,
)


@dataclass(frozen=True)
class Secrets:
    as_token: str
    hs_token: str
    registration_shared_secret: str
    pickle_key: str
    kvnr_key: str
    admin_password: str
    admin_api_token: str

    def __repr__(self) -> str:  # never print secrets by accident
        return "Secrets(<hidden>)"


@dataclass(frozen=True)
class Settings:
    """Everything a process needs: the data dir, the parsed config and the secrets."""

    data_dir: Path
    config: MessengerConfig
    secrets: Secrets

    @property
    def database_url(self) -> str:
        return self.config.database.url or f"sqlite+aiosqlite:///{self.data_dir / 'messenger.db'}"

    @property
    def synapse_sqlite(self) -> Path | None:
        """The embedded Synapse's SQLite file; None for an external Synapse or PostgreSQL."""
        hs = self.config.homeserver
        if hs.mode != "embedded" or hs.scaled is not None or "database" in hs.extra:
            return None
        return self.synapse_dir / "homeserver.db"

    @property
    def synapse_dir(self) -> Path:
        return self.data_dir / "synapse"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def bots_dir(self) -> Path:
        return self.data_dir / "bots"

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"


def secrets_dir(data_dir: Path) -> Path:
    return data_dir / "secrets"


def generate_secrets(data_dir: Path) -> list[str]:
    """Create missing secret files (mode 0600), keeping existing ones. Returns the names made."""
    folder = secrets_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    made = []
    for name in SECRET_NAMES:
        target = folder / name
        if target.exists():
            continue
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(_random.token_urlsafe(48))
        made.append(name)
    return made


def load_secrets(data_dir: Path, section: SecretsSection) -> Secrets:
    values: dict[str, str] = {}
    for name in SECRET_NAMES:
        from_env = os.environ.get(f"MESSENGER_{name.upper()}")
        configured = getattr(section, f"{name}_path")
        if from_env:
            values[name] = from_env.strip()
            continue
        path = Path(configured) if configured else secrets_dir(data_dir) / name
        try:
            values[name] = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            key = f"secrets.{name}_path" if configured else f"secret {name}"
            raise ConfigError(
                f"{key}: no file at {path}; run `messenger init` or set MESSENGER_{name.upper()}"
            ) from None
        if not values[name]:
            raise ConfigError(f"secret {name} at {path} is empty")
    return Secrets(**values)


def config_path(data_dir: Path) -> Path:
    return data_dir / "messenger.yaml"


def load_settings(data_dir: Path) -> Settings:
    config = load_config(config_path(data_dir))
    return Settings(
        data_dir=data_dir, config=config, secrets=load_secrets(data_dir, config.secrets)
    )
