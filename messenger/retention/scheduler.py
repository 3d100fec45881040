"""The job scheduler: APScheduler 3 with its job store in our database.

Exactly one process schedules: the one holding the `_scheduler` lease in `job_runs` (renewed
every 20 s, runs out after 60 s, so a standby process takes over from a dead one). Each run
additionally takes its job's own lock (`JobRunner`), so even a manual `retention run` next to
a running scheduler never doubles a job. Jobs missed while no process ran are run once at the
next start (coalesced, no grace limit): a restart never loses a job.

APScheduler calls job functions with their stored arguments; our executor hands each named
job function to the runner instead, which passes it the JobContext (no globals).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import make_url

from messenger.config import MessengerConfig, duration_ms
from messenger.db.database import now_ms
from messenger.db.stores import jobs as store
from messenger.retention.calendar import BERLIN
from messenger.retention.jobs import JOBS
from messenger.retention.runner import JobRunner

log = logging.getLogger(__name__)
LEADER = "_scheduler"
LEADER_LEASE_MS = 60_000
RENEW_S = 20.0
WAKE_S = 5.0
JOB_TABLE = "apscheduler_jobs"
CONTEXT_ARG = "<JobContext>"


def triggers(config: MessengerConfig) -> dict[str, BaseTrigger]:
    hour, minute = config.retention.leave_prompts_at.split(":")
    purge_hour, purge_minute = config.desk.purge_at.split(":")
    coverage_hour, coverage_minute = config.accounts.coverage_check_at.split(":")
    return {
        "leave_prompts": CronTrigger(hour=int(hour), minute=int(minute), timezone=BERLIN),
        "abandoned_rooms": IntervalTrigger(
            seconds=duration_ms(config.retention.cleanup_every) // 1000, timezone=BERLIN
        ),
        "chat_request_expiry": IntervalTrigger(
            seconds=max(1, duration_ms(config.chat_requests.check_every) // 1000),
            timezone=BERLIN,
        ),
        "desk_sla": IntervalTrigger(
            seconds=max(1, duration_ms(config.desk.check_every) // 1000), timezone=BERLIN
        ),
        "insurer_purge": CronTrigger(
            hour=int(purge_hour), minute=int(purge_minute), timezone=BERLIN
        ),
        "coverage_end": CronTrigger(
            hour=int(coverage_hour), minute=int(coverage_minute), timezone=BERLIN
        ),
        "homeserver_analyze": CronTrigger(hour=4, minute=30, timezone=BERLIN),
    }


def sync_url(async_url: str) -> str:
    """APScheduler's job store is synchronous: the same database through a sync driver."""
    url = make_url(async_url)
    backend = url.get_backend_name()
    driver = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg2"}[backend]
    return url.set(drivername=driver).render_as_string(hide_password=False)


class _BoundJob:
    """What APScheduler's coroutine runner needs of a job, with the runner as its function."""

    def __init__(self, job: Any, runner: JobRunner) -> None:
        self.id = job.id
        self.name = job.name
        self.args: tuple[Any, ...] = ()
        self.kwargs: dict[str, Any] = {}
        self.misfire_grace_time = job.misfire_grace_time
        self._jobstore_alias = job._jobstore_alias
        self._runner = runner

    async def func(self) -> dict[str, Any]:
        return (await self._runner.run(self.id)).as_json()

    def __str__(self) -> str:
        return f"{self.name} (job)"


class _ContextExecutor(AsyncIOExecutor):  # type: ignore[misc]
    def __init__(self, runner: JobRunner) -> None:
        super().__init__()
        self._runner = runner

    def _do_submit_job(self, job: Any, run_times: Any) -> None:
        super()._do_submit_job(_BoundJob(job, self._runner), run_times)


class JobScheduler:
    def __init__(
        self,
        runner: JobRunner,
        database_url: str,
        config: MessengerConfig,
        *,
        on_lead: Callable[[], Awaitable[None]] | None = None,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        """`on_lead`: called when this process takes the lease (the leader's other work starts
        there); `on_lost`: when it loses it to another process."""
        self._runner = runner
        self._on_lead = on_lead
        self._on_lost = on_lost
        self._url = sync_url(database_url)
        # APScheduler's job store is synchronous and runs in the event loop: waiting there for a
        # SQLite lock held by one of our async transactions would stall the loop that has to
        # finish that transaction. So it gives up fast; the wakeup in run() retries.
        sqlite = self._url.startswith("sqlite")
        self._engine_options = {"connect_args": {"timeout": 0.5}} if sqlite else {}
        self._triggers = triggers(config)
        self._scheduler: AsyncIOScheduler | None = None
        self._start_failed = False  # leading, but the scheduler did not start: retry at a wake

    @property
    def leading(self) -> bool:
        return self._scheduler is not None

    async def run(self) -> None:
        """Owned task: hold (or wait for) the scheduler lease; schedule while holding it."""
        try:
            while True:
                await self._renew()
                wake_s = min(WAKE_S, RENEW_S)
                for _ in range(max(1, round(RENEW_S / wake_s))):
                    await asyncio.sleep(wake_s)
                    if self._start_failed:
                        break  # at the next wake, not the next renewal
                    if self._scheduler is not None:
                        # APScheduler stops its timer when a job-store write fails (SQLite
                        # busy, see _engine_options); waking it up resumes it
                        self._scheduler.wakeup()
        finally:
            self._shutdown()
            with contextlib.suppress(Exception):
                async with self._runner.ctx.db.transaction() as conn:
                    await store.release(conn, LEADER, self._runner.holder)

    async def _renew(self) -> None:
        try:
            async with self._runner.ctx.db.transaction() as conn:
                lead = await store.claim(
                    conn, LEADER, self._runner.holder, now_ms(), LEADER_LEASE_MS, renewing=True
                )
        except Exception:
            log.exception("scheduler lease not renewed; retrying")
            lead = False
            if self._on_lost is not None:
                return  # still ours for a while (LEADER_LEASE_MS); the next renewal decides
        if lead and self._scheduler is None:
            try:
                self._start()
            except Exception:  # e.g. the database busy for a moment: try again soon
                log.exception("job scheduler did not start; retrying in %.0f s", WAKE_S)
                self._start_failed = True
                return
            self._start_failed = False
            if self._on_lead is not None:
                await self._on_lead()
        elif not lead and self._scheduler is not None:
            log.warning("another process holds the scheduler lease; standing by")
            self._shutdown()
            if self._on_lost is not None:
                self._on_lost()

    def _start(self) -> None:
        scheduler = AsyncIOScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(
                    url=self._url, tablename=JOB_TABLE, engine_options=self._engine_options
                )
            },
            executors={"default": _ContextExecutor(self._runner)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=BERLIN,
        )
        scheduler.start()
        try:
            for name, trigger in self._triggers.items():
                job = scheduler.get_job(name)
                if job is None:
                    # the stored argument is a placeholder: our executor passes the JobContext
                    scheduler.add_job(JOBS[name], trigger, args=(CONTEXT_ARG,), id=name, name=name)
                elif str(job.trigger) != str(trigger):
                    job.reschedule(trigger)
        except Exception:
            scheduler.shutdown(wait=False)
            raise
        self._scheduler = scheduler
        log.info("job scheduler started (%s)", ", ".join(self._triggers))

    def _shutdown(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
