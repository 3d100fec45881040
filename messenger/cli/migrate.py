"""`messenger migrate-db`: an embedded deployment (SQLite) onto PostgreSQL for the scaled one."""

from __future__ import annotations

import json
from pathlib import Path

import click

from messenger.cli.common import data_dir_option, emit_json, run, settings_for
from messenger.settings import Settings
from messenger.supervisor import pid_alive

OURS_MARKER = "messenger.db.migrated.json"


def running_pid(settings: Settings) -> int | None:
    state = settings.run_dir / "up.json"
    if not state.exists():
        return None
    pid = int(json.loads(state.read_text()).get("pid", 0))
    return pid if pid_alive(pid) else None


def unmoved_ours(settings: Settings) -> Path | None:
    path = settings.data_dir / "messenger.db"
    return path if path.exists() and not (settings.data_dir / OURS_MARKER).exists() else None


@click.command("migrate-db")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print a summary as JSON")
def migrate_db(data_dir: Path | None, as_json: bool) -> None:
    """Move an embedded deployment's data (SQLite) to PostgreSQL, for the scaled deployment.

    Set homeserver.scaled and database.url in messenger.yaml first, and stop the system.
    Synapse's database is moved with Synapse's synapse_port_db, ours table by table in one
    transaction; the SQLite files stay as they are (a marker beside each records the move)."""
    from messenger.db.copy import CopyRefused, copy_database
    from messenger.db.database import Database
    from messenger.homeserver.port_db import PortError, port_synapse, unmoved_sqlite
    from messenger.homeserver.postgres import DatabaseSetupError, ensure_database

    settings = settings_for(data_dir)
    cfg = settings.config
    scaled = cfg.homeserver.scaled
    if scaled is None or cfg.database.url is None:
        raise click.ClickException(
            "homeserver.scaled is not set in messenger.yaml: set it (and database.url) to the "
            "PostgreSQL databases to move to, then run migrate-db again"
        )
    pid = running_pid(settings)
    if pid is not None:
        raise click.ClickException(f"messenger is running (pid {pid}); stop it first")
    synapse_sqlite, ours_sqlite = unmoved_sqlite(settings), unmoved_ours(settings)
    if synapse_sqlite is None and ours_sqlite is None:
        raise click.ClickException(
            f"nothing to move: no unmoved SQLite database in {settings.data_dir}"
        )
    try:
        ensure_database(scaled.synapse_database, for_synapse=True)
        ensure_database(cfg.database.url, for_synapse=False)
    except DatabaseSetupError as error:
        raise click.ClickException(str(error)) from None
    summary: dict[str, object] = {"synapse": "already moved", "messenger": "already moved"}
    if synapse_sqlite is not None:
        echo = (lambda _line: None) if as_json else (lambda line: click.echo(f"  {line}"))
        if not as_json:
            click.echo(f"moving Synapse's database {synapse_sqlite} (synapse_port_db) ...")
        try:
            port_synapse(settings, echo)
        except PortError as error:
            raise click.ClickException(str(error)) from None
        summary["synapse"] = "moved"
    if ours_sqlite is not None:

        def table_done(name: str, rows: int) -> None:
            if not as_json:
                click.echo(f"  {name}: {rows} rows")

        async def copy() -> dict[str, int]:
            source = Database(f"sqlite+aiosqlite:///{ours_sqlite}")
            target = Database(cfg.database.url or "")
            try:
                return (await copy_database(source, target, table_done)).rows
            finally:
                await source.close()
                await target.close()

        if not as_json:
            click.echo(f"copying messenger's database {ours_sqlite} ...")
        try:
            rows = run(copy())
        except CopyRefused as error:
            raise click.ClickException(str(error)) from None
        (settings.data_dir / OURS_MARKER).write_text(json.dumps({"rows": rows}), "utf-8")
        summary["messenger"] = {"tables": len(rows), "rows": sum(rows.values())}
    if as_json:
        emit_json(summary)
    else:
        click.echo("moved. `messenger up` now runs the scaled deployment on PostgreSQL.")
