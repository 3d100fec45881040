"""`messenger init`: idempotent, validates before writing, never rewrites the user's config."""

from __future__ import annotations

from pathlib import Path

from tests.system import messenger_cli


def test_init_creates_config_and_private_secrets_once(tmp_path: Path) -> None:
    first = messenger_cli("init", "--data-dir", str(tmp_path), "--port", "18123")
    assert "wrote" in first.stdout
    token = (tmp_path / "secrets" / "as_token").read_text()
    assert (tmp_path / "secrets" / "as_token").stat().st_mode & 0o777 == 0o600
    again = messenger_cli("init", "--data-dir", str(tmp_path), "--port", "18124")
    assert "keeps homeserver.port: 18123 (not 18124)" in again.stdout
    assert (tmp_path / "secrets" / "as_token").read_text() == token
    assert "port: 18123" in (tmp_path / "messenger.yaml").read_text()


def test_bad_server_name_is_refused_and_nothing_written(tmp_path: Path) -> None:
    target = tmp_path / "d"
    result = messenger_cli(
        "init", "--data-dir", str(target), "--server-name", "bad name!", check=False
    )
    assert result.returncode == 1
    assert "homeserver.server_name" in result.stderr
    assert not (target / "messenger.yaml").exists()


def test_broken_user_config_is_reported_and_left_alone(tmp_path: Path) -> None:
    messenger_cli("init", "--data-dir", str(tmp_path))
    config = tmp_path / "messenger.yaml"
    config.write_text("homeserver:\n  port: 99999\n")
    result = messenger_cli("init", "--data-dir", str(tmp_path), check=False)
    assert result.returncode == 1 and "homeserver.port" in result.stderr
    assert config.read_text() == "homeserver:\n  port: 99999\n"
    status = messenger_cli("status", "--data-dir", str(tmp_path), check=False)
    assert status.returncode == 1 and "homeserver.port" in status.stderr
