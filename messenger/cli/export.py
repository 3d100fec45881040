"""`messenger export`: a patient (or practice) saves chats as files, decrypted on their machine.

Secrets are asked for at a hidden prompt, or taken from the environment for scripts:
MESSENGER_PASSWORD (or MESSENGER_ACCESS_TOKEN), MESSENGER_EXPORT_PASSPHRASE (key-export file),
MESSENGER_RECOVERY_KEY / MESSENGER_SECURITY_PHRASE (key backup). Never on the command line.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from messenger.cli.common import emit_json
from messenger.export.account import Chat, choose, login, logout, whoami
from messenger.export.chat_export import FORMATS, ExportOptions
from messenger.export.client_api import ClientApi, discover
from messenger.export.collect import HistoryCounts
from messenger.export.errors import ExportError
from messenger.export.exporter import ExportSummary, check_target, export_chats
from messenger.export.keys.backup import BackupSecret
from messenger.export.keys.gather import gather_keys
from messenger.export.keys.recovery_key import decode_recovery_key
from messenger.export.texts import LANGUAGES, undecryptable_summary

_UNITS = {"": 10**6, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
          "gb": 10**9}  # fmt: skip


def parse_size(value: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", value)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise click.BadParameter(
            f"{value!r} is not a size; use e.g. 500MB, 2GB, 800KB", param_hint="--max-size"
        )
    return int(float(match.group(1)) * _UNITS[unit])


def parse_day(value: str | None, option: str, zone: ZoneInfo, end: bool) -> datetime | None:
    """A date (the whole day counts: from its start for --since, to its end for --until) or an
    ISO date-time, in the export's time zone."""
    if value is None:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value)
            moment = datetime.combine(day + timedelta(days=1) if end else day, time(), zone)
            return moment - timedelta(milliseconds=1) if end else moment
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM",
                                 param_hint=option) from None  # fmt: skip
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def _formats(values: tuple[str, ...]) -> tuple[str, ...]:
    chosen: list[str] = []
    for value in values or ("html",):
        for kind in value.replace(" ", "").lower().split(","):
            if kind not in FORMATS:
                raise click.BadParameter(
                    f"{kind!r}: allowed are {', '.join(FORMATS)}", param_hint="--format"
                )
            if kind not in chosen:
                chosen.append(kind)
    return tuple(chosen)


def _secret(env: str, prompt: str) -> str:
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise ExportError(f"{prompt}: not given (no terminal to ask; set {env})")
    return str(click.prompt(prompt, hide_input=True))


@click.command("export")
@click.option("--user", "user", required=True, help="Your Matrix ID, e.g. @erika:kasse.example")
@click.option("--homeserver", help="Client URL of your server [default: from .well-known]")
@click.option(
    "--room", "rooms", multiple=True, help="A chat: room id, #address or its name (repeatable)"
)
@click.option("--all", "every", is_flag=True, help="Every chat you are in")
@click.option("--since", help="First day to include (YYYY-MM-DD)")
@click.option("--until", help="Last day to include (YYYY-MM-DD)")
@click.option(
    "--format", "formats", multiple=True, metavar="html|txt|json",
    help="Output format; repeat or comma-separate for several [default: html]",
)  # fmt: skip
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="A new folder, or a file ending in .zip")  # fmt: skip
@click.option("--no-attachments", is_flag=True, help="Leave files and images out")
@click.option("--max-size", help="Most attachment bytes to include (e.g. 500MB); beyond: omitted")
@click.option(
    "--keys", "key_files", multiple=True, type=click.Path(path_type=Path),
    help="An Element key-export file (passphrase asked, or MESSENGER_EXPORT_PASSPHRASE)",
)  # fmt: skip
@click.option(
    "--recovery-key", is_flag=True,
    help="Use your key backup; recovery key asked (or MESSENGER_RECOVERY_KEY)",
)  # fmt: skip
@click.option(
    "--security-phrase", is_flag=True,
    help="Use your key backup with its security phrase (or MESSENGER_SECURITY_PHRASE)",
)  # fmt: skip
@click.option("--lang", "language", type=click.Choice(LANGUAGES), default="de", show_default=True)
@click.option("--timezone", "zone_name", default="Europe/Berlin", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary")
def export(
    user: str, homeserver: str | None, rooms: tuple[str, ...], every: bool, since: str | None,
    until: str | None, formats: tuple[str, ...], out: Path, no_attachments: bool,
    max_size: str | None, key_files: tuple[Path, ...], recovery_key: bool, security_phrase: bool,
    language: str, zone_name: str, as_json: bool,
) -> None:  # fmt: skip
    """Save chats as readable files (HTML, text, JSON) with their attachments, decrypted here.

    Room keys come from an Element key-export file (--keys) and/or your server-side key backup
    (--recovery-key). Messages that cannot be decrypted are marked and counted. Nothing is
    written unless the whole export succeeds. See docs/export.md."""
    if bool(rooms) == every:
        raise click.UsageError("give --room (one or more) or --all")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"{zone_name!r} is not a time zone (e.g. Europe/Berlin)",
                                 param_hint="--timezone") from None  # fmt: skip
    options = ExportOptions(
        _formats(formats), parse_day(since, "--since", zone, end=False),
        parse_day(until, "--until", zone, end=True), not no_attachments, language, zone,
    )  # fmt: skip
    if options.since and options.until and options.since > options.until:
        raise click.BadParameter("--since is after --until", param_hint="--since")
    limit = parse_size(max_size) if max_size else None
    for path in key_files:
        if not path.is_file():
            raise click.BadParameter(f"no such file: {path}", param_hint="--keys")
    try:
        check_target(out)
        work = _export(user, homeserver, list(rooms), every, options, out, limit, key_files,
                       recovery_key, security_phrase, as_json)  # fmt: skip
        summary = asyncio.run(work)
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        emit_json(summary.as_json())
        return
    _report(summary, language)


async def _export(
    user: str, homeserver: str | None, rooms: list[str], every: bool, options: ExportOptions,
    out: Path, limit: int | None, key_files: tuple[Path, ...], recovery_key: bool,
    security_phrase: bool, as_json: bool,
) -> ExportSummary:  # fmt: skip
    api = ClientApi(homeserver or await discover(user))
    token = os.environ.get("MESSENGER_ACCESS_TOKEN")
    logged_in = False
    try:
        if token:
            api.token = token
            user_id = await whoami(api)
        else:
            user_id = await login(api, user, _secret("MESSENGER_PASSWORD", f"Password for {user}"))
            logged_in = True
        chats = await choose(api, user_id, rooms, every)
        files = [(path, _secret("MESSENGER_EXPORT_PASSPHRASE", f"Passphrase for {path.name}"))
                 for path in key_files]  # fmt: skip
        backup = _backup_secret(recovery_key, security_phrase)
        keys = await gather_keys(api, user_id, chats, files, backup)
        with _progress(chats, as_json) as on_page:
            return await export_chats(api, keys, chats, user_id, out, options, limit, on_page)
    finally:
        if logged_in:
            await logout(api)
        await api.close()


def _backup_secret(recovery_key: bool, security_phrase: bool) -> BackupSecret | None:
    if security_phrase or os.environ.get("MESSENGER_SECURITY_PHRASE"):
        return BackupSecret(phrase=_secret("MESSENGER_SECURITY_PHRASE", "Security phrase"))
    if recovery_key or os.environ.get("MESSENGER_RECOVERY_KEY"):
        return BackupSecret(
            key=decode_recovery_key(_secret("MESSENGER_RECOVERY_KEY", "Recovery key"))
        )
    return None


class _progress:
    """A bar over the chats on a terminal, with the messages read so far; silent otherwise."""

    def __init__(self, chats: list[Chat], quiet: bool) -> None:
        self._show = not quiet and sys.stderr.isatty()
        self._bar: Any = None
        self._chats = chats
        self._current = ""

    def __enter__(self) -> Callable[[Chat, HistoryCounts], None]:
        if self._show:
            self._bar = click.progressbar(length=len(self._chats), file=sys.stderr,
                                          item_show_func=lambda item: item)  # fmt: skip
            self._bar.__enter__()
        return self._page

    def _page(self, chat: Chat, counts: HistoryCounts) -> None:
        if self._bar is None:
            return
        if chat.room_id != self._current:
            if self._current:
                self._bar.update(1)
            self._current = chat.room_id
        self._bar.update(0, f"{chat.name}: {counts.messages}")

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.update(1)
            self._bar.__exit__(*exc)


def _report(summary: ExportSummary, language: str) -> None:
    chats, messages = len(summary.chats), summary.messages
    attachments = sum(chat.attachments for chat in summary.chats)
    omitted = sum(chat.omitted_attachments for chat in summary.chats)
    if language == "de":
        click.echo(f"Export fertig: {chats} Chat(s), {messages} Nachrichten, "
                   f"{attachments} Anhänge → {summary.out}")  # fmt: skip
        if omitted:
            click.echo(f"{omitted} Anhänge sind nicht im Export enthalten (im Export markiert)")
    else:
        click.echo(f"Export done: {chats} chat(s), {messages} messages, "
                   f"{attachments} attachments → {summary.out}")  # fmt: skip
        if omitted:
            click.echo(f"{omitted} attachments are not included (marked in the export)")
    if summary.undecryptable:
        click.echo(undecryptable_summary(summary.undecryptable, language))
