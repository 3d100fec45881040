"""`messenger retention status|run|audit`: the scheduled jobs, one run now, the deletion log.

`run` executes the job in this process under the job's database lock, so it never overlaps
the scheduler's run of the same job in the appservice (it reports "runs elsewhere" instead).
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click
import sqlalchemy as sa

from messenger.bridge.admin_account import admin_token
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.cli.common import data_dir_option, emit_json, run, settings_for
from messenger.db.database import Database
from messenger.db.stores import jobs as store
from messenger.retention.context import JobContext
from messenger.retention.jobs import JOBS, MEND_CHANNELS
from messenger.retention.runner import JobOutcome, JobRunner
from messenger.retention.scheduler import JOB_TABLE
from messenger.settings import Settings


def _when(ms: float | None) -> str:
    if ms is None:
        return "–"
    return dt.datetime.fromtimestamp(ms / 1000).astimezone().isoformat(timespec="seconds")


async def _status(settings: Settings) -> list[dict[str, Any]]:
    db = Database(settings.database_url)
    try:
        await db.migrate()
        async with db.reading() as conn:
            runs = await store.all_runs(conn)
            rows = await conn.execute(sa.text(f"SELECT id, next_run_time FROM {JOB_TABLE}"))
            next_runs = {str(r.id): r.next_run_time for r in rows}
    finally:
        await db.close()
    report = []
    for name, job in JOBS.items():
        row = runs.get(name)
        next_s = next_runs.get(name)
        report.append(
            {
                "job": name,
                "about": (job.__doc__ or "").strip(),
                "scheduled": name in next_runs,
                "next_run": _when(next_s * 1000) if next_s is not None else None,
                "last_started": _when(row.last_started_at) if row and row.last_started_at else None,
                "last_finished": _when(row.last_finished_at)
                if row and row.last_finished_at
                else None,
                "last_result": row.last_result if row else None,
                "last_error": row.last_error if row else None,
                "last_succeeded": row is not None and row.succeeded,
                "running_on": row.holder if row and row.holder else None,
                "runs": row.runs if row else 0,
            }
        )
    return report


@click.group()
def retention() -> None:
    """Jobs (leave prompts, abandoned rooms, request expiry, ...; one by hand: mending insurer
    channels deleted on the homeserver) and the deletion log."""


@retention.command("status")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output")
def status(data_dir: Any, as_json: bool) -> None:
    """Each job: last and next run, last result, and where it runs now."""
    report = run(_status(settings_for(data_dir)))
    if as_json:
        emit_json(report)
        return
    for job in report:
        click.echo(f"{job['job']}  – {job['about']}")
        unscheduled = "not scheduled (appservice not started)"
        if job["job"] == MEND_CHANNELS:  # never scheduled: at start until a run succeeds
            unscheduled = "by hand" if job["last_succeeded"] else "at the next start"
        click.echo(f"  next run:      {job['next_run'] or unscheduled}")
        click.echo(f"  last run:      {job['last_started'] or 'never'}")
        outcome = job["last_error"] or job["last_result"]
        click.echo(f"  last result:   {outcome if outcome is not None else '–'}")
        if job["running_on"]:
            click.echo(f"  running on:    {job['running_on']}")


async def _run_once(settings: Settings, name: str, as_of: int | None) -> JobOutcome:
    db = Database(settings.database_url)
    cfg = settings.config
    hs = HomeserverClient(cfg.homeserver.client_url, settings.secrets.as_token, cfg.appservice.id)

    async def token() -> str:
        return await admin_token(settings, hs)

    try:
        await db.migrate()
        return await JobRunner(JobContext(db, hs, token, settings)).run(name, as_of)
    finally:
        await hs.close()
        await db.close()


@retention.command("run")
@data_dir_option
@click.argument("job", type=click.Choice(list(JOBS)))
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
    help="Run as if it were this (local) time, e.g. to see what a later run would prompt",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output")
def run_job(data_dir: Any, job: str, as_of: dt.datetime | None, as_json: bool) -> None:
    """Run JOB now (under its lock; refused while another process runs it)."""
    at = int(as_of.astimezone().timestamp() * 1000) if as_of is not None else None
    outcome = run(_run_once(settings_for(data_dir), job, at))
    if as_json:
        emit_json(outcome.as_json())
    elif not outcome.ran:
        click.echo(f"{job}: not run — another process is running it right now")
    elif outcome.error:
        click.echo(f"{job}: failed — {outcome.error}", err=True)
    else:
        click.echo(f"{job}: done — {outcome.result}")
    if not outcome.ran:
        sys.exit(3)
    if outcome.error:
        sys.exit(1)


async def _audit(settings: Settings, since: int) -> list[store.AuditRow]:
    db = Database(settings.database_url)
    try:
        await db.migrate()
        async with db.reading() as conn:
            return await store.audit_log(conn, since)
    finally:
        await db.close()


@retention.command("audit")
@data_dir_option
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="From this day on")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output")
def audit(data_dir: Any, since: dt.datetime | None, as_json: bool) -> None:
    """The deletion log: job, room, action, count and time (never content)."""
    start = int(since.astimezone().timestamp() * 1000) if since else 0
    rows = run(_audit(settings_for(data_dir), start))
    if as_json:
        emit_json([{**row.__dict__, "at": _when(row.at)} for row in rows])
        return
    for row in rows:
        click.echo(f"{_when(row.at)}  {row.job:<20} {row.action:<28} {row.count:>6}  "
                   f"{row.room_id or ''}")  # fmt: skip
