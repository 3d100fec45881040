"""What every verb shares: --data-dir, loading settings, running a coroutine, clear errors."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from messenger.bridge.errors import HomeserverUnreachable, MatrixError
from messenger.config import ConfigError
from messenger.db.migrate import DatabaseRefused
from messenger.settings import Settings, load_settings

T = TypeVar("T")
DEFAULT_DATA_DIR = "./data"


def default_data_dir() -> Path:
    return Path(os.environ.get("MESSENGER_DATA_DIR", DEFAULT_DATA_DIR)).resolve()


F = TypeVar("F", bound=Callable[..., Any])


def data_dir_option(command: F) -> F:
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help=f"Where config, secrets, databases and logs live "
        f"[default: $MESSENGER_DATA_DIR or {DEFAULT_DATA_DIR}]",
    )(command)


def resolve_data_dir(data_dir: Path | None) -> Path:
    return data_dir.resolve() if data_dir else default_data_dir()


def settings_for(data_dir: Path | None) -> Settings:
    try:
        return load_settings(resolve_data_dir(data_dir))
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coroutine)
    except (HomeserverUnreachable, DatabaseRefused, ConfigError) as error:
        raise click.ClickException(str(error)) from None
    except MatrixError as error:
        raise click.ClickException(f"the homeserver refused: {error}") from None


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


class NoBar:
    """Stands in for click's progress bar where none is shown (no terminal, or --json)."""

    def __enter__(self) -> NoBar:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def update(self, _steps: int, _item: object = None) -> None:
        return None


def progress_bar(length: int, label: str, show: bool) -> Any:
    """click's bar on stderr when `show` (a terminal, no --json); a silent stand-in otherwise."""
    if not show:
        return NoBar()
    return click.progressbar(length=max(length, 1), label=label, file=sys.stderr)
