"""`messenger accounts add|list|show`."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click

from messenger.accounts.coverage import DEFAULT_REASON, REASONS, CoverageInputError
from messenger.accounts.handler import AccountHandler, AccountInputError, NewAccount
from messenger.accounts.patient_csv import PatientCsvError, provision_row, read_patient_csv
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.cli.common import data_dir_option, emit_json, progress_bar, run, settings_for
from messenger.db.database import Database, now_ms
from messenger.db.stores.accounts import AccountRow
from messenger.db.stores.coverage import CoverageEndRow
from messenger.ids import Role
from messenger.settings import Settings

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
@click.option("--email", help="Contact e-mail address")
@click.option(
    "--idp-subject", help="With OIDC login: the identity provider's subject for this person"
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output")
def add(
    data_dir: Path | None,
    role: str,
    display_name: str,
    kvnr: str | None,
    password: str | None,
    username: str | None,
    email: str | None,
    idp_subject: str | None,
    as_json: bool,
) -> None:
    """Create a real account on the homeserver and record its role.

    For a patient with a KVNR it is idempotent: the KVNR's existing account is returned (and
    its name, e-mail and IdP subject brought up to date), never a second one."""
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
                    email=email,
                    idp_subject=idp_subject,
                ),
            )
        )
    except AccountInputError as error:
        raise click.UsageError(str(error)) from None
    if as_json:
        emit_json(created.as_json())
        return
    verb = "created" if created.created else "exists already:"
    click.echo(f"{verb} {created.role.value} {created.user_id} ({created.display_name})")
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


@accounts.command("import")
@data_dir_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report")
def import_(data_dir: Path | None, file: Path, as_json: bool) -> None:
    """Provision patients from a CSV file with the header kvnr,display_name[,email][,idp_subject]
    (comma or semicolon, UTF-8). Idempotent per KVNR; a bad row is reported with its line and
    reason and changes nothing; the others go on."""
    try:
        rows = read_patient_csv(file)
    except PatientCsvError as error:
        raise click.UsageError(str(error)) from None
    settings = settings_for(data_dir)
    show_bar = not as_json and sys.stderr.isatty()
    report: list[dict[str, object]] = []

    async def work(handler: AccountHandler) -> None:
        with progress_bar(len(rows), "provisioning", show_bar) as bar:
            for row in rows:
                report.append(await provision_row(handler, row))
                bar.update(1)

    run(_with_handler(settings, work))
    counts = {state: sum(1 for r in report if r["result"] == state)
              for state in ("created", "existing", "rejected")}  # fmt: skip
    if as_json:
        emit_json({**counts, "rows": report})
        return
    click.echo(f"{file.name}: {counts['created']} created, {counts['existing']} existing, "
               f"{counts['rejected']} rejected")  # fmt: skip
    for entry in report:
        if entry["result"] == "rejected":
            click.echo(f"  line {entry['line']}: {entry['reason']}", err=True)


@accounts.command("end-coverage")
@data_dir_option
@click.argument("patient")
@click.option("--on", "on", help="The last day of access (YYYY-MM-DD); the end runs that day")
@click.option("--reason", type=click.Choice(REASONS), default=DEFAULT_REASON, show_default=True)
@click.option("--cancel", is_flag=True, help="Withdraw a coverage end before its date")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output")
def end_coverage(
    data_dir: Path | None, patient: str, on: str | None, reason: str, cancel: bool, as_json: bool
) -> None:
    """End a patient's access (KVNR or @user) on a date: warnings before it in the service room
    (accounts.coverage_warnings), then on the date pending requests withdrawn, every room left
    with a visible reason, the account deactivated with erase, our records reduced."""
    if cancel == bool(on):
        raise click.UsageError("give --on DATE, or --cancel")
    settings = settings_for(data_dir)

    async def work(handler: AccountHandler) -> CoverageEndRow:
        ends = handler.coverage_ends()
        if cancel:
            return await ends.cancel(patient, now_ms())
        assert on is not None
        return await ends.schedule(patient, on, reason, now_ms())

    try:
        row: CoverageEndRow = run(_with_handler(settings, work))
    except CoverageInputError as error:
        raise click.UsageError(str(error)) from None
    if as_json:
        emit_json(row.as_json())
        return
    if row.cancelled_at is not None:
        click.echo(f"coverage end of {row.user_id} cancelled (was {row.end_on})")
    else:
        click.echo(f"coverage end of {row.user_id} on {row.end_on} ({row.reason}); "
                   f"warnings {', '.join(map(str, settings.config.accounts.coverage_warnings))} "
                   "days before")  # fmt: skip
