"""`messenger accounts add|list|show`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click

from messenger.accounts.handler import AccountHandler, AccountInputError, NewAccount
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.cli.common import data_dir_option, emit_json, run, settings_for
from messenger.config import Settings
from messenger.db.database import Database
from messenger.db.stores.accounts import AccountRow
from messenger.ids import Role

T = TypeVar("T")


def _row_json(row: AccountRow) -> dict[str, object]:
    return {
        "user_id": row.user_id,
        "role": row.role.value,
        "display_name": row.display_name,
        "has_kvnr": row.has_kvnr,
        "service_room_id": row.service_room_id,
        "greeted": row.greeted_at is not None,
        "language": row.language,
        "created_at": row.created_at,
    }


async def _with_handler(settings: Settings, work: Callable[[AccountHandler], Awaitable[T]]) -> T:
    db = Database(settings.database_url)
    cfg = settings.config
    hs = HomeserverClient(cfg.homeserver.client_url, settings.secrets.as_token, cfg.appservice.id)
    try:
        await db.migrate()
        return await work(AccountHandler(settings, db, hs))
    finally:
        await hs.close()
        await db.close()


@click.group()
def accounts() -> None:
    """Create and inspect accounts (patients, practices, agents)."""


@accounts.command("add")
@data_dir_option
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--display-name", required=True, help='Shown to others, e.g. "Praxis Dr. Weber"')
@click.option("--kvnr", help="Patients only: Krankenversichertennummer (validated, stored hashed)")
@click.option("--password", help="Default: a generated password, printed once")
@click.option(
    "--username", help="Practices/agents only: the Matrix localpart (default from the name)"
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output")
def add(
    data_dir: Path | None,
    role: str,
    display_name: str,
    kvnr: str | None,
    password: str | None,
    username: str | None,
    as_json: bool,
) -> None:
    """Create a real account on the homeserver and record its role."""
    settings = settings_for(data_dir)
    try:
        created: NewAccount = run(
            _with_handler(
                settings,
                lambda handler: handler.add(
                    role=Role(role),
                    display_name=display_name,
                    kvnr=kvnr,
                    password=password,
                    username=username,
                ),
            )
        )
    except AccountInputError as error:
        raise click.UsageError(str(error)) from None
    if as_json:
        emit_json(
            {
                "user_id": created.user_id,
                "role": created.role.value,
                "display_name": created.display_name,
                "homeserver": created.homeserver,
                "password": created.password,
                "service_room_id": created.service_room_id,
                "insurer_room_id": created.insurer_room_id,
                "warning": created.warning,
            }
        )
        return
    click.echo(f"created {created.role.value} {created.user_id} ({created.display_name})")
    click.echo(f"homeserver: {created.homeserver}")
    if created.password:
        click.echo(f"password:   {created.password}   (shown once; hand it over securely)")
    if created.service_room_id:
        click.echo(
            f"service room: {created.service_room_id} (the service bot greets on first join)"
        )
    if created.insurer_room_id:
        click.echo(
            f"insurer channel: {created.insurer_room_id} (write to the insurer; the desk bot "
            "answers)"
        )
    if created.warning:
        click.echo(f"warning: {created.warning}", err=True)


@accounts.command("list")
@data_dir_option
@click.option("--role", type=click.Choice([r.value for r in Role]))
@click.option("--json", "as_json", is_flag=True)
def list_(data_dir: Path | None, role: str | None, as_json: bool) -> None:
    """List accounts, optionally of one role."""
    settings = settings_for(data_dir)
    rows: list[AccountRow] = run(
        _with_handler(settings, lambda handler: handler.list(Role(role) if role else None))
    )
    if as_json:
        emit_json([_row_json(row) for row in rows])
        return
    for row in rows:
        click.echo(f"{row.user_id}\t{row.role.value}\t{row.display_name}")
    click.echo(f"{len(rows)} account(s)")


@accounts.command("show")
@data_dir_option
@click.argument("account")
@click.option("--json", "as_json", is_flag=True)
def show(data_dir: Path | None, account: str, as_json: bool) -> None:
    """Show one account by Matrix ID (@…) or KVNR."""
    settings = settings_for(data_dir)
    try:
        row: AccountRow | None = run(_with_handler(settings, lambda handler: handler.show(account)))
    except AccountInputError as error:
        raise click.UsageError(str(error)) from None
    if row is None:
        raise click.ClickException("no such account")
    if as_json:
        emit_json(_row_json(row))
        return
    for key, value in _row_json(row).items():
        click.echo(f"{key}: {value}")
