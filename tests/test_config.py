"""Configuration errors name the key and what is allowed; secrets come from env, files or data dir."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from messenger.config import ConfigError, example_config_text, parse_config
from messenger.settings import generate_secrets, load_secrets, load_settings

PG = "postgresql://synapse@db/synapse"


def test_packaged_example_is_valid_and_documents_defaults() -> None:
    config = parse_config(yaml.safe_load(example_config_text()))
    assert config.homeserver.server_name == "localhost"
    assert config.homeserver.federation is False
    assert config.default_language == "de"


@pytest.mark.parametrize(
    ("raw", "key", "hint"),
    [
        ({"homeserver": {"port": 70000}}, "homeserver.port", "65535"),
        ({"homeserver": {"mode": "cloud"}}, "homeserver.mode", "'embedded' or 'external'"),
        (
            {"homeserver": {"redaction_retention_period": "soon"}},
            "homeserver.redaction_retention_period",
            "duration",
        ),
        (
            {"appservice": {"namespace_prefix": "bots"}},
            "appservice.namespace_prefix",
            "start with '_'",
        ),
        (
            {"appservice": {"transaction_window": "soon"}},
            "appservice.transaction_window",
            "duration",
        ),
        (
            {"appservice": {"transaction_window": "10s"}},
            "appservice.transaction_window",
            "at most 5s",
        ),
        ({"database": {"url": "mysql://x"}}, "database.url", "postgresql+asyncpg"),
        ({"homeserver": {"prot": 1}}, "homeserver.prot", "unknown key"),
        ({"default_language": "fr"}, "default_language", "'de' or 'en'"),
        (
            {"homeserver": {"scaled": {"synapse_database": "sqlite:///x.db"}}},
            "homeserver.scaled.synapse_database",
            "postgresql://USER",
        ),
        (
            {"homeserver": {"scaled": {"synapse_database": PG, "client_workers": 0}}},
            "homeserver.scaled.client_workers",
            "greater than or equal to 1",
        ),
        (
            {"homeserver": {"mode": "external", "scaled": {"synapse_database": PG}}},
            "homeserver",
            "only an embedded homeserver",
        ),
        (
            {"homeserver": {"scaled": {"synapse_database": PG}}},
            "(top level)",
            "our own database on PostgreSQL too",
        ),
    ],
)
def test_config_error_names_key_and_allowed_values(
    raw: dict[str, object], key: str, hint: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "test.yaml")
    message = str(caught.value)
    assert f"  {key}:" in message
    assert hint in message


def test_an_unquoted_window_is_read_as_a_duration() -> None:
    """YAML reads `transaction_window: 0` as a number; it means what "0" means (off), and a
    bare number is milliseconds as in every duration; a fraction has no unit to read."""
    assert (
        parse_config({"appservice": {"transaction_window": 0}}).appservice.transaction_window == "0"
    )
    assert (
        parse_config({"appservice": {"transaction_window": 250}}).appservice.transaction_window
        == "250"
    )
    with pytest.raises(ConfigError, match="not a duration"):
        parse_config({"appservice": {"transaction_window": 0.5}})


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match="mapping"):
        parse_config(["a"])


def test_secrets_are_private_files_and_env_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = generate_secrets(tmp_path)
    assert "as_token" in made
    assert generate_secrets(tmp_path) == []  # idempotent
    assert (tmp_path / "secrets" / "as_token").stat().st_mode & 0o777 == 0o600
    section = parse_config({}).secrets
    from_file = load_secrets(tmp_path, section).as_token
    monkeypatch.setenv("MESSENGER_AS_TOKEN", "from-env")
    assert load_secrets(tmp_path, section).as_token == "from-env"
    assert from_file != "from-env"
    assert "from-env" not in repr(load_secrets(tmp_path, section))


def test_secret_path_that_does_not_exist_names_the_key(tmp_path: Path) -> None:
    generate_secrets(tmp_path)
    section = parse_config({"secrets": {"hs_token_path": str(tmp_path / "nope")}}).secrets
    with pytest.raises(ConfigError, match=r"secrets\.hs_token_path"):
        load_secrets(tmp_path, section)


def test_missing_config_says_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="messenger init"):
        load_settings(tmp_path)
