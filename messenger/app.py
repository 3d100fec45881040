"""The App: wires the appservice process together (database, Synapse client, transaction server,
inbox worker, bots). The one place that knows all the parts; no module-level globals.

One of several processes (`homeserver.scaled.appservice_processes`, `serve --instance N`): every
process takes transactions and processes its inbox (exactly once, see bridge/inbox.py); only the
holder of the scheduler's database lease runs the bots and the jobs. A standby starts them when
it takes the lease over; a leader that loses its lease stops the process (the supervisor starts
it again, as a standby), so two bots with the same device never run at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

from aiohttp import web

from messenger.accounts.handler import AccountHandler
from messenger.admin.accounts_api import AccountsApi
from messenger.admin.api import AdminApi
from messenger.bots.base import Bot
from messenger.bots.leave_commands import LeaveCommands
from messenger.bots.runtime import BotRuntime
from messenger.bots.service_bot import ServiceBot
from messenger.bridge.admin_account import AdminToken
from messenger.bridge.errors import HomeserverUnreachable, MatrixError
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.bridge.inbox import InboxWorker
from messenger.bridge.pace import AnswerPace
from messenger.bridge.server import TransactionServer
from messenger.config import BotSection, duration_ms
from messenger.db.database import Database
from messenger.db.stores import jobs as jobs_store
from messenger.desk.bot import DeskBot
from messenger.desk.desk import build_desk
from messenger.desk.metrics import DeskMetrics
from messenger.desk.stats import DeskStats
from messenger.directory.search import ProviderDirectory
from messenger.homeserver.workers import instance_port
from messenger.ids import localpart
from messenger.namespace import BotNamespace
from messenger.requests.facts import PolicyFacts
from messenger.requests.handler import ChatRequestHandler
from messenger.requests.lifecycle import ChatRequestTracker
from messenger.retention.context import JobContext
from messenger.retention.jobs import MEND_CHANNELS
from messenger.retention.leave_prompts import LeavePrompts
from messenger.retention.runner import JobRunner
from messenger.retention.scheduler import JobScheduler
from messenger.retention.thresholds import LeaveThresholds
from messenger.rooms.registry import RoomRegistry
from messenger.settings import Settings

log = logging.getLogger(__name__)
MEND_SKIPPED = "insurer channels searched before; not again at start"
SHUTDOWN_S = 3.0


class App:
    def __init__(self, settings: Settings, instance: int | None = None) -> None:
        cfg = settings.config
        self.instance = instance
        self.port = instance_port(settings, instance)
        self.halted = asyncio.Event()  # set when this process must end (lease lost)
        self._bots_started = False
        self._bots_task: asyncio.Task[None] | None = None
        bots = BotNamespace(cfg.appservice.namespace_prefix, cfg.homeserver.server_name)
        self.settings = settings
        self.db = Database(settings.database_url)
        self.hs = HomeserverClient(
            cfg.homeserver.client_url, settings.secrets.as_token, cfg.appservice.id
        )
        self._admin_token = AdminToken(settings, self.hs)
        self.accounts = AccountHandler(settings, self.db, self.hs)
        self.directory = ProviderDirectory(self.db, on_change=self.hs.refresh_policy)
        self.requests = ChatRequestHandler(
            self.db, self.hs, self._admin_token, cfg.chat_requests, settings.secrets.kvnr_key
        )
        self.thresholds = LeaveThresholds(
            self.db, self.hs, self._admin_token, cfg.retention.leave_prompt_default_months
        )
        leave = LeaveCommands(
            LeavePrompts(
                self.db, self.hs, self._admin_token, cfg.retention.leave_prompt_default_months
            ),
            self.thresholds,
        )
        self.bot = ServiceBot(
            self.db, self.directory, self.requests, cfg.insurer.name, cfg.default_language, leave
        )
        self.inbox = InboxWorker(
            self.db,
            [
                RoomRegistry(bots),
                ChatRequestTracker(duration_ms(cfg.chat_requests.expire_after), bots),
            ],
            on_notices=self.bot.notices.wake,
        )
        self.server = TransactionServer(
            self.inbox,
            settings.secrets.hs_token,
            self._user_exists,
            self.directory,
            self._health,
            AdminApi(
                settings.secrets.admin_api_token,
                self.directory,
                self.requests,
                AccountsApi(self.accounts, self.accounts.coverage_ends()),
            ),
            PolicyFacts(self.db, bots, cfg.chat_requests),
            self.thresholds,
            AnswerPace(duration_ms(cfg.appservice.transaction_window) / 1000),
        )
        self.jobs = JobRunner(JobContext(self.db, self.hs, self._admin_token, settings))
        self.scheduler = JobScheduler(
            self.jobs,
            settings.database_url,
            cfg,
            on_lead=self._lead if instance is not None else None,
            on_lost=self._lost if instance is not None else None,
        )
        self.service_bot = self._runtime(cfg.bots.service, self.bot)
        self.desk_bot = DeskBot(build_desk(settings, self.db, self.hs, self._admin_token))
        self.desk_runtime = self._runtime(
            cfg.bots.desk.model_copy(update={"display_name": cfg.desk_name}), self.desk_bot
        )
        self.metrics = DeskMetrics(DeskStats(self.db))
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._inbox_task: asyncio.Task[None] | None = None

    def _runtime(self, section: BotSection, bot: Bot) -> BotRuntime:
        settings = self.settings
        return BotRuntime(
            user_id=settings.config.bot_user_id(section),
            section=section,
            homeserver_url=settings.config.homeserver.client_url,
            store_dir=settings.bots_dir / section.localpart,
            pickle_key=settings.secrets.pickle_key,
            db=self.db,
            hs=self.hs,
            admin_token=self._admin_token,
            bot=bot,
        )

    @property
    def _runtimes(self) -> list[BotRuntime]:
        return [self.service_bot, self.desk_runtime]

    async def _user_exists(self, user: str) -> bool:
        if user not in [runtime.user_id for runtime in self._runtimes]:
            return False
        await self.hs.register_appservice_user(localpart(user))
        return True

    async def _health(self) -> dict[str, Any]:
        worker_alive = self._inbox_task is not None and not self._inbox_task.done()
        standby = self.instance is not None and not self.scheduler.leading
        return {
            "status": "ok" if worker_alive else "degraded",
            "instance": {
                "number": self.instance or 1,
                "pid": os.getpid(),
                "role": "standby" if standby else "leader",
            },
            "bots": {
                runtime.user_id: "ready"
                if runtime.ready.is_set()
                else ("standby" if standby else "starting")
                for runtime in self._runtimes
            },
            "inbox": {
                **await self.inbox.counts(),
                "worker": "running" if worker_alive else "stopped",
            },
        }

    async def _wait_for_homeserver(self, timeout: float = 120) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await self.hs.health():
            if asyncio.get_running_loop().time() > deadline:
                raise HomeserverUnreachable(self.hs.base_url, "no answer to /health")
            await asyncio.sleep(0.5)

    async def start(self) -> None:
        before, after = await self.db.migrate()
        if before != after:
            log.info("database migrated from %s to %s", before, after)
        cfg = self.settings.config.appservice
        web_app = self.server.app()
        web_app.router.add_get("/metrics", self._metrics)
        # at stop the module's long polls are answered at once (end_long_polls); a request still
        # running after SHUTDOWN_S is cancelled: a cancelled transaction is rolled back and
        # Synapse sends it again
        self._runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=SHUTDOWN_S)
        await self._runner.setup()
        await web.TCPSite(self._runner, cfg.bind_address, self.port).start()
        log.info("appservice listening on %s:%d", cfg.bind_address, self.port)
        self._inbox_task = asyncio.create_task(self.inbox.run(), name="inbox")
        self._tasks.append(self._inbox_task)
        await self._wait_for_homeserver()
        try:
            await self.hs.ping()  # makes Synapse retry queued transactions now
        except MatrixError as error:
            log.warning("homeserver ping failed: %s", error)
        if self.instance is None:
            await self._start_bots()
        self._tasks.append(asyncio.create_task(self.metrics.run(), name="desk metrics"))
        self._tasks.append(asyncio.create_task(self.scheduler.run(), name="scheduler"))

    async def _start_bots(self) -> None:
        self._bots_started = True
        await self.service_bot.start()
        await self.desk_runtime.start()
        self._tasks.append(asyncio.create_task(self._catch_up(), name="catch-up"))

    async def _lead(self) -> None:
        """This process took the lease: the bots start here (in their own task, so the lease
        keeps being renewed while they sync)."""
        if self._bots_started:
            return
        log.info("appservice %s leads: starting the bots", self.instance)
        self._bots_task = asyncio.create_task(self._start_bots(), name="bots")
        self._bots_task.add_done_callback(self._bots_start_ended)

    def _bots_start_ended(self, task: asyncio.Task[None]) -> None:
        """A leader whose bots failed to start ends: the supervisor starts it again (or the
        standby takes the lease) rather than holding the lease with no bots running."""
        if task.cancelled() or task.exception() is None:
            return
        log.error(
            "appservice %s: starting the bots failed", self.instance, exc_info=task.exception()
        )
        self.halted.set()

    def _lost(self) -> None:
        if self._bots_started:
            log.error("appservice %s lost its lease while its bots ran: stopping", self.instance)
            self.halted.set()

    async def _catch_up(self) -> None:
        """Rooms that a crash, an outage or a deletion on the homeserver left out: service
        rooms, insurer channels gone from the homeserver, insurer channels never made. One
        failure does not stop the rest; what failed is tried again at the next start."""
        steps = (
            (self.accounts.provision_missing_service_rooms, "created %d missing service rooms"),
            (self._mend_channels_once, "checked %d insurer channels on the homeserver"),
            (self.accounts.provision_missing_insurer_channels,
             "created %d missing insurer channels"),
        )  # fmt: skip
        for step, done in steps:
            try:
                made = await step()
            except Exception:
                log.exception("catch-up %s failed; tried again at next start", step.__name__)
                continue
            if made:
                log.info(done, made)

    async def _mend_channels_once(self) -> int:
        """The (costly: every room of the desk bot) search for gone insurer channels, until one
        run has succeeded; afterwards only by hand (`retention run mend_insurer_channels`). A
        failed run (logged by the runner) is repeated at the next start."""
        async with self.db.reading() as conn:
            done = (await jobs_store.all_runs(conn)).get(MEND_CHANNELS)
        if done is not None and done.succeeded:
            log.info(MEND_SKIPPED)
            return 0
        outcome = await self.jobs.run(MEND_CHANNELS)
        if not outcome.ran:
            log.warning("%s runs in another process; tried again at the next start if it "
                        "does not succeed there", MEND_CHANNELS)  # fmt: skip
        return int((outcome.result or {}).get("checked", 0))

    async def _metrics(self, _request: web.Request) -> web.Response:
        return web.Response(
            body=self.metrics.exposition(), content_type="text/plain", charset="utf-8"
        )

    async def stop(self) -> None:
        # the bots first: a leader that lost its lease must not sync beside the new leader
        if self._bots_task is not None:  # a start still under way ends before the bots stop
            self._bots_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._bots_task
        await self.bot.stop()
        await self.desk_bot.stop()
        await self.service_bot.stop()
        await self.desk_runtime.stop()
        await self.server.drain()  # Synapse's queued events reach us before we go
        self.server.end_long_polls()  # else the runner's cleanup waits SHUTDOWN_S for them
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._runner is not None:
            await self._runner.cleanup()
        await self.hs.close()
        await self.db.close()
