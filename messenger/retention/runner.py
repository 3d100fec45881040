"""Running one job: take its database lock, keep the lease alive while it runs, record its
result. Two processes (two appservices, or the appservice and `messenger retention run`) never
run the same job at once; a process that died leaves a lease that runs out, so its job is not
blocked for ever."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.database import now_ms
from messenger.db.stores import jobs as store
from messenger.retention.context import JobContext
from messenger.retention.jobs import JOBS
from messenger.supervisor import pid_alive

log = logging.getLogger(__name__)
LEASE_MS = 120_000
HEARTBEAT_S = 30.0


class UnknownJob(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no job named {name!r}; jobs: {', '.join(JOBS)}")


@dataclass(frozen=True)
class JobOutcome:
    name: str
    ran: bool  # False: another process holds the job's lock
    result: dict[str, Any] | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"job": self.name, "ran": self.ran, "result": self.result, "error": self.error}


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def died_here(holder: str) -> bool:
    """A holder on this host whose process is gone (crashed): its lease need not run out."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    return host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid))


class JobRunner:
    def __init__(self, ctx: JobContext, holder: str | None = None) -> None:
        self.ctx = ctx
        self.holder = holder or holder_id()

    async def _holder_died(self, conn: AsyncConnection, name: str) -> bool:
        holder = (await store.all_runs(conn)).get(name)
        if holder is None or holder.holder is None or not died_here(holder.holder):
            return False
        log.warning("job %s: its holder %s died; taking over its lock", name, holder.holder)
        await store.release(conn, name, holder.holder)
        return True

    async def run(self, name: str, as_of: int | None = None) -> JobOutcome:
        job = JOBS.get(name)
        if job is None:
            raise UnknownJob(name)
        ctx = self.ctx if as_of is None else replace(self.ctx, now=lambda: as_of)
        db = self.ctx.db
        async with db.transaction() as conn:
            taken = await store.claim(conn, name, self.holder, now_ms(), LEASE_MS)
            if not taken and await self._holder_died(conn, name):
                taken = await store.claim(conn, name, self.holder, now_ms(), LEASE_MS)
            if not taken:
                log.info("job %s runs elsewhere; not started here", name)
                return JobOutcome(name, ran=False)
            await store.mark_started(conn, name, self.holder, now_ms())
        work = asyncio.create_task(job(ctx), name=f"job-{name}")
        heartbeat = asyncio.create_task(self._heartbeat(name, work), name=f"lease-{name}")
        result: dict[str, Any] | None = None
        error: str | None = None
        try:
            result = await work
        except asyncio.CancelledError:
            error = "cancelled (lease lost or process stopping)"
            raise
        except Exception as failure:
            log.exception("job %s failed", name)
            error = f"{type(failure).__name__}: {failure}"
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            with contextlib.suppress(Exception):
                async with db.transaction() as conn:
                    await store.finish(conn, name, self.holder, now_ms(), result, error)
        log.info("job %s finished: %s", name, result if error is None else error)
        return JobOutcome(name, ran=True, result=result, error=error)

    async def _heartbeat(self, name: str, work: asyncio.Task[Any]) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            async with self.ctx.db.transaction() as conn:
                kept = await store.renew(conn, name, self.holder, now_ms() + LEASE_MS)
            if not kept:
                log.error("job %s lost its lock; stopping it", name)
                work.cancel()
                return
