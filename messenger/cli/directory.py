"""`messenger directory import|list|show|search` for operators."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click

from messenger.bridge.homeserver_client import HomeserverClient
from messenger.cli.common import data_dir_option, emit_json, progress_bar, run, settings_for
from messenger.db.database import Database
from messenger.db.stores.directory import ProviderRow
from messenger.directory.csv_source import parse_csv
from messenger.directory.fhir import parse_bundle
from messenger.directory.importer import DirectoryImport, ImportRefused, ImportSummary
from messenger.directory.query import QueryError, parse_free_text
from messenger.directory.records import Parsed
from messenger.directory.render import row_json
from messenger.directory.search import ProviderDirectory

T = TypeVar("T")


async def _with_db(data_dir: Path | None, work: Callable[[Database], Awaitable[T]]) -> T:
    db = Database(settings_for(data_dir).database_url)
    try:
        await db.migrate()
        return await work(db)
    finally:
        await db.close()


def _parse_file(path: Path, kind: str) -> Parsed:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.BadParameter(f"cannot read {path}: {error}", param_hint="FILE") from None
    if kind == "auto":
        kind = "fhir" if text.lstrip().startswith("{") else "csv"
    if kind == "csv":
        return parse_csv(text)
    try:
        return parse_bundle(json.loads(text))
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"{path} is not JSON: {error}", param_hint="FILE") from None


@click.group()
def directory() -> None:
    """The provider directory: import practices, look them up."""


@directory.command("import")
@data_dir_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", help="Name of this source (default: the file name without extension)")
@click.option("--format", "kind", type=click.Choice(["auto", "fhir", "csv"]), default="auto")
@click.option(
    "--allow-empty", is_flag=True, help="Allow a file without usable records to empty the source"
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary")
def import_(
    data_dir: Path | None,
    file: Path,
    source: str | None,
    kind: str,
    allow_empty: bool,
    as_json: bool,
) -> None:
    """Load providers from a FHIR Bundle (gematik VZD shape) or a CSV file (docs/directory.md).

    Entries of the same source that are no longer in the file are removed; bad records are
    reported and skipped; the directory changes all at once or not at all."""
    parsed = _parse_file(file, kind)
    name = source or file.stem
    show_bar = not as_json and sys.stderr.isatty()
    with progress_bar(len(parsed.records), f"importing {name}", show_bar) as bar:

        async def work(db: Database) -> ImportSummary:
            return await DirectoryImport(db).run(name, parsed, bar.update, allow_empty=allow_empty)

        try:
            summary = run(_with_db(data_dir, work))
        except ImportRefused as error:
            raise click.ClickException(str(error)) from None
    if summary.added or summary.updated or summary.removed:
        run(_tell_homeserver(data_dir))
    if as_json:
        emit_json(summary.as_json())
        return
    click.echo(
        f"{name}: {summary.added} added, {summary.updated} updated, {summary.unchanged} unchanged, "
        f"{summary.removed} removed, {len(summary.rejected)} rejected"
    )
    for rejected in summary.rejected:
        click.echo(f"  rejected {rejected.where}: {rejected.reason}", err=True)


async def _tell_homeserver(data_dir: Path | None) -> None:
    """The user directory (our Synapse module) follows the directory at once."""
    settings = settings_for(data_dir)
    cfg = settings.config
    async with HomeserverClient(
        cfg.homeserver.client_url, settings.secrets.as_token, cfg.appservice.id
    ) as hs:
        await hs.refresh_policy()


@directory.command("search")
@data_dir_option
@click.argument("text", default="")
@click.option("--postcode", help="Postcode or its first digits")
@click.option("--city")
@click.option("--specialty")
@click.option("--all", "include_hidden", is_flag=True, help="Include hidden, inactive, unlisted")
@click.option("--limit", type=click.IntRange(1, 100), default=10)
@click.option("--json", "as_json", is_flag=True)
def search(
    data_dir: Path | None, text: str, postcode: str | None, city: str | None,
    specialty: str | None, include_hidden: bool, limit: int, as_json: bool,
) -> None:  # fmt: skip
    """Search as a patient would (or everything with --all)."""
    try:
        query = parse_free_text(
            text, postcode=postcode, city=city, specialty=specialty, limit=limit,
            include_hidden=include_hidden,
        )  # fmt: skip
    except QueryError as error:
        raise click.UsageError(str(error)) from None
    rows = run(_with_db(data_dir, lambda db: ProviderDirectory(db).search(query)))
    _print_rows(rows, as_json)


@directory.command("list")
@data_dir_option
@click.option("--limit", type=click.IntRange(1, 1000), default=50)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--json", "as_json", is_flag=True)
def list_(data_dir: Path | None, limit: int, offset: int, as_json: bool) -> None:
    """All entries, including hidden and inactive ones."""

    async def work(db: Database) -> tuple[int, list[ProviderRow]]:
        directory_ = ProviderDirectory(db)
        return await directory_.count(), await directory_.listing(limit, offset)

    total, rows = run(_with_db(data_dir, work))
    _print_rows(rows, as_json)
    if not as_json:
        click.echo(f"{len(rows)} of {total} entries (from {offset})")


@directory.command("show")
@data_dir_option
@click.argument("entry")
@click.option("--json", "as_json", is_flag=True)
def show(data_dir: Path | None, entry: str, as_json: bool) -> None:
    """One entry by its number, or all entries of a Matrix ID (@…)."""

    async def work(db: Database) -> list[ProviderRow]:
        directory_ = ProviderDirectory(db)
        if entry.startswith("@"):
            return await directory_.entries_of(entry)
        if not entry.isdigit():
            raise click.BadParameter("a number or a Matrix ID (@…)", param_hint="ENTRY")
        found = await directory_.get(int(entry))
        return [found] if found else []

    rows = run(_with_db(data_dir, work))
    if not rows:
        raise click.ClickException("no such entry")
    if as_json:
        emit_json([row_json(row) for row in rows])
        return
    for row in rows:
        for key, value in row_json(row).items():
            click.echo(f"{key}: {value}")
        click.echo("")


def _print_rows(rows: list[ProviderRow], as_json: bool) -> None:
    if as_json:
        emit_json([row_json(row) for row in rows])
        return
    for row in rows:
        flags = "" if row.visible_to_patients else "  [not shown to patients]"
        click.echo(
            f"{row.id:>7}  {row.name} — {', '.join(row.specialties) or '-'} — "
            f"{row.street}, {row.postcode} {row.city} — {row.matrix_id}{flags}"
        )
