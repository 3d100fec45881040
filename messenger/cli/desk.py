"""`messenger desk stats|hold`: the desk's figures, and legal holds that suspend the 5-year
purge for a patient's insurer channel or for one ticket."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.bridge.homeserver_client import HomeserverClient
from messenger.cli.common import data_dir_option, emit_json, run, settings_for
from messenger.config import duration_ms
from messenger.db.database import Database, now_ms
from messenger.db.stores import accounts as accounts_store
from messenger.db.stores import desk as store
from messenger.desk import rooms
from messenger.desk.stats import DeskReport, DeskStats
from messenger.ids import RoomID
from messenger.kvnr import InvalidKVNR, kvnr_digest, parse_kvnr
from messenger.settings import Settings


@click.group()
def desk() -> None:
    """The insurer desk: figures and legal holds."""


def parse_since(value: str | None, now: int) -> int:
    """A date (YYYY-MM-DD, local time) or a duration back from now (30d, 12h)."""
    if value is None:
        return now - 30 * 86_400_000
    try:
        return now - duration_ms(value)
    except ValueError:
        pass
    try:
        return int(dt.datetime.fromisoformat(value).astimezone().timestamp() * 1000)
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: a date (2026-11-01) or a duration back from now (30d, 12h)",
            param_hint="--since",
        ) from None


async def _stats(settings: Settings, since: int, now: int) -> DeskReport:
    db = Database(settings.database_url)
    try:
        await db.migrate()
        return await DeskStats(db).report(now, since)
    finally:
        await db.close()


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    hours, rest = divmod(int(value), 3600)
    return f"{hours} h {rest // 60:02d} min"


@desk.command()
@data_dir_option
@click.option("--since", help="From a date (2026-11-01) or a duration back (30d) [default: 30d]")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output")
def stats(data_dir: Path | None, since: str | None, as_json: bool) -> None:
    """Open tickets by topic and age, share answered within the SLA, first-response times,
    breaches (of tickets opened since --since)."""
    settings = settings_for(data_dir)
    now = now_ms()
    report = run(_stats(settings, parse_since(since, now), now))
    if as_json:
        emit_json(report.as_json())
        return
    share = report.share_within_sla
    click.echo(f"tickets opened:             {report.opened}")
    click.echo(f"open now:                   {report.open_total}")
    for topic, ages in sorted(report.open_by_topic.items()):
        parts = ", ".join(f"{age}: {count}" for age, count in sorted(ages.items()))
        click.echo(f"  {topic:<24} {parts}")
    click.echo(f"answered within SLA:        {'–' if share is None else f'{share:.1%}'}")
    click.echo(f"first response median:      {_seconds(report.first_response_median_s)}")
    click.echo(f"first response p90:         {_seconds(report.first_response_p90_s)}")
    click.echo(f"breaches:                   {report.breaches}")


async def _hold(
    settings: Settings, patient: str | None, ticket: int | None, release: bool
) -> dict[str, object]:
    """The channel's retention policy is changed first: if that fails, nothing is held (and
    Synapse's own retention purge could not spare what we think is held)."""
    cfg = settings.config
    db = Database(settings.database_url)
    try:
        await db.migrate()
        async with db.reading() as conn:
            if ticket is not None:
                row = await store.ticket(conn, ticket)
                if row is None:
                    raise click.BadParameter(f"there is no ticket #{ticket}", param_hint="--ticket")
                owner = row.patient_id
            else:
                assert patient is not None
                owner = await _patient(conn, settings, patient)
            channel = await store.channel_of_patient(conn, owner)
            if channel is None:
                raise click.BadParameter(
                    f"{owner} has no insurer channel yet (nothing to hold)", param_hint="--patient"
                )
            others = await store.held_tickets(conn, owner, besides=ticket)
        held = (not release) or bool(others) or (ticket is not None and channel.hold)
        async with HomeserverClient(cfg.homeserver.client_url, settings.secrets.as_token,
                                    cfg.appservice.id) as hs:  # fmt: skip
            lifetime = None if held else duration_ms(cfg.desk.purge_after)
            await rooms.set_retention(hs, cfg.bot_user_id(cfg.bots.desk), RoomID(channel.room_id),
                                      lifetime)  # fmt: skip
        async with db.transaction() as conn:
            if ticket is not None:
                await store.update_ticket(conn, ticket, hold=not release)
            else:
                await store.update_channel(conn, owner, hold=not release)
    finally:
        await db.close()
    return {"patient": owner, "ticket": ticket, "hold": not release, "channel_on_hold": held}


async def _patient(conn: AsyncConnection, settings: Settings, who: str) -> str:
    if who.startswith("@"):
        account = await accounts_store.get(conn, who)
    else:
        try:
            digest = kvnr_digest(parse_kvnr(who), settings.secrets.kvnr_key.encode())
        except InvalidKVNR as error:
            raise click.BadParameter(f"a Matrix ID (@…) or a KVNR; {error}",
                                     param_hint="--patient") from None  # fmt: skip
        account = await accounts_store.get_by_kvnr_digest(conn, digest)
    if account is None or account.role.value != "patient":
        raise click.BadParameter(f"no patient {who}", param_hint="--patient")
    return str(account.user_id)


@desk.command()
@data_dir_option
@click.option("--patient", help="A patient (Matrix ID or KVNR): their whole insurer channel")
@click.option("--ticket", type=click.IntRange(1), help="One ticket")
@click.option("--release", is_flag=True, help="End the hold (the purge applies again)")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output")
def hold(
    data_dir: Path | None, patient: str | None, ticket: int | None, release: bool,
    as_json: bool,
) -> None:  # fmt: skip
    """Put a legal hold on (or release) a patient's insurer channel or one ticket: nothing it
    covers is purged while the hold lasts."""
    if (patient is None) == (ticket is None):
        raise click.UsageError("give exactly one of --patient or --ticket")
    settings = settings_for(data_dir)
    result = run(_hold(settings, patient, ticket, release))
    if as_json:
        emit_json(result)
        return
    what = f"ticket #{ticket}" if ticket else f"insurer channel of {result['patient']}"
    click.echo(f"{what}: {'released' if release else 'on legal hold'}")
