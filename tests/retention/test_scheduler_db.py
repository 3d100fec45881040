"""The scheduler on each database backend: a job never runs in two processes at once, exactly
one process schedules, a dead process's lease runs out, and a run missed while nothing was
running happens once at the next start (APScheduler's job store lives in our database)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from messenger.bridge.homeserver_client import HomeserverClient
from messenger.db.database import Database, now_ms
from messenger.db.stores import jobs as store
from messenger.retention import jobs, runner, scheduler
from messenger.retention.context import JobContext
from messenger.retention.runner import JobRunner
from messenger.retention.scheduler import JobScheduler, sync_url
from messenger.settings import load_settings
from tests.system import messenger_cli


async def _no_token() -> str:
    raise AssertionError("not needed")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data_dir: Path = tmp_path_factory.mktemp("sched")
    messenger_cli("init", "--data-dir", str(data_dir))
    return load_settings(data_dir)


def context(db: Database, settings: Any) -> JobContext:
    return JobContext(db, HomeserverClient("http://127.0.0.1:9", "x", "x"), _no_token, settings)


async def test_two_processes_never_run_one_job_at_once(
    fresh_db: Database, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fresh_db.migrate()
    other_process_db = Database(fresh_db.url)  # its own engine and connections
    release = asyncio.Event()
    entered: list[str] = []

    async def slow(ctx: JobContext) -> dict[str, Any]:
        entered.append("run")
        await release.wait()
        return {"done": 1}

    monkeypatch.setitem(jobs.JOBS, "slow", slow)
    first = JobRunner(context(fresh_db, settings), holder="first")
    second = JobRunner(context(other_process_db, settings), holder="second")
    try:
        running = asyncio.create_task(first.run("slow"))
        while not entered:
            await asyncio.sleep(0.01)
        assert (await second.run("slow")).ran is False  # refused while the first holds it
        release.set()
        outcome = await running
        assert outcome.ran and outcome.result == {"done": 1}
        assert (await second.run("slow")).ran  # free again
        async with fresh_db.reading() as conn:
            row = (await store.all_runs(conn))["slow"]
        assert row.runs == 2 and row.holder is None and row.last_result == {"done": 1}
        # a process that died while holding the lock: its lease runs out, then others run
        async with fresh_db.transaction() as conn:
            assert await store.claim(conn, "slow", "dead", now_ms() - 200_000, 1000)
        assert (await second.run("slow")).ran
    finally:
        await other_process_db.close()


async def test_failing_job_records_its_error_and_frees_the_lock(
    fresh_db: Database, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fresh_db.migrate()

    async def broken(ctx: JobContext) -> dict[str, Any]:
        raise ValueError("no luck")

    monkeypatch.setitem(jobs.JOBS, "broken", broken)
    outcome = await JobRunner(context(fresh_db, settings)).run("broken")
    assert outcome.ran and outcome.error == "ValueError: no luck"
    async with fresh_db.reading() as conn:
        row = (await store.all_runs(conn))["broken"]
    assert row.last_error == "ValueError: no luck" and row.holder is None


async def test_one_scheduler_leads_and_a_standby_takes_over(
    fresh_db: Database, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fresh_db.migrate()
    monkeypatch.setattr(scheduler, "RENEW_S", 0.2)
    monkeypatch.setattr(scheduler, "LEADER_LEASE_MS", 1500)
    other_process_db = Database(fresh_db.url)
    a = JobScheduler(JobRunner(context(fresh_db, settings), "a"), fresh_db.url, settings.config)
    b = JobScheduler(
        JobRunner(context(other_process_db, settings), "b"), fresh_db.url, settings.config
    )
    task_a = asyncio.create_task(a.run())
    await asyncio.sleep(0.5)
    task_b = asyncio.create_task(b.run())
    try:
        await asyncio.sleep(1.0)
        assert a.leading and not b.leading
        async with fresh_db.reading() as conn:
            stored = {r.id for r in await conn.execute(sa.text("SELECT id FROM apscheduler_jobs"))}
        assert stored == set(jobs.JOBS) - {jobs.MEND_CHANNELS}  # that one: at start, by hand
        task_a.cancel()  # a stops (gracefully: it releases its lease)
        await asyncio.gather(task_a, return_exceptions=True)
        deadline = time.monotonic() + 5
        while not b.leading and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert b.leading, task_b.exception() if task_b.done() else "b still standing by"
    finally:
        for task in (task_a, task_b):
            task.cancel()
        await asyncio.gather(task_a, task_b, return_exceptions=True)
        await other_process_db.close()


async def test_a_run_missed_while_down_happens_once_at_start(
    fresh_db: Database, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fresh_db.migrate()
    monkeypatch.setattr(runner, "HEARTBEAT_S", 0.5)
    first = JobScheduler(JobRunner(context(fresh_db, settings)), fresh_db.url, settings.config)
    task = asyncio.create_task(first.run())
    await asyncio.sleep(1.0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    # the process was down for three days: the daily prompt job missed three runs
    store_ = SQLAlchemyJobStore(url=sync_url(fresh_db.url), tablename="apscheduler_jobs")
    store_.start(None, "default")  # type: ignore[arg-type]
    job = store_.lookup_job("leave_prompts")
    job.next_run_time = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    store_.update_job(job)
    store_.shutdown()
    restarted = JobScheduler(JobRunner(context(fresh_db, settings)), fresh_db.url, settings.config)
    task = asyncio.create_task(restarted.run())
    try:
        deadline = time.monotonic() + 10
        runs = None
        while time.monotonic() < deadline:
            async with fresh_db.reading() as conn:
                runs = (await store.all_runs(conn)).get("leave_prompts")
            if runs is not None and runs.runs >= 1 and runs.holder is None:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        async with fresh_db.reading() as conn:
            runs = (await store.all_runs(conn))["leave_prompts"]
            next_run = (
                await conn.execute(
                    sa.text("SELECT next_run_time FROM apscheduler_jobs WHERE id='leave_prompts'")
                )
            ).scalar_one()
        assert runs.runs == 1 and runs.last_error is None  # once, not three times
        assert runs.last_result == {
            "patients": 0,
            "chats": 0,
            "selection_ms": runs.last_result["selection_ms"],
        }
        assert next_run > time.time()  # and scheduled again for its next time
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
