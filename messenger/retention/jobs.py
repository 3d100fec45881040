"""The jobs: named top-level functions, each idempotent and resumable (its progress is in the
database), each returning a JSON-able summary. `JOBS` is the one list the scheduler, the CLI
and `retention status` know."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from messenger.accounts.coverage_end import CoverageEnds
from messenger.config import duration_ms
from messenger.db.database import now_ms
from messenger.db.stores import chat_requests as chat_requests_store
from messenger.db.stores import policy_changes
from messenger.desk.channel_mend import ChannelMend
from messenger.desk.desk import build_desk
from messenger.desk.sla_watch import SlaWatch
from messenger.homeserver.sqlite_stats import analyze_in_background
from messenger.requests.handler import ChatRequestHandler
from messenger.retention.abandoned import AbandonedRooms
from messenger.retention.context import JobContext
from messenger.retention.insurer_purge import InsurerPurge
from messenger.retention.leave_prompts import LeavePrompts

# codes expired (and failed attempts made) this long ago are dropped; the failure limit
# counts the last hour only
CODE_KEEP_MS = 86_400_000
Job = Callable[[JobContext], Coroutine[Any, Any, dict[str, Any]]]
# run at start until one run has succeeded, and by hand; never on a schedule
MEND_CHANNELS = "mend_insurer_channels"


async def leave_prompts(ctx: JobContext) -> dict[str, Any]:
    """Offer patients to leave care chats older than their threshold (one notice each)."""
    cfg = ctx.settings.config.retention
    prompts = LeavePrompts(ctx.db, ctx.hs, ctx.admin_token, cfg.leave_prompt_default_months)
    return (await prompts.run(ctx.now())).as_json()


async def abandoned_rooms(ctx: JobContext) -> dict[str, Any]:
    """Delete rooms every local member left and forgot, and never-used state-only rooms."""
    cfg = ctx.settings.config
    rooms = AbandonedRooms(
        ctx.db, ctx.hs, ctx.admin_token, cfg.homeserver.server_name,
        duration_ms(cfg.retention.state_only_rooms_after),
    )  # fmt: skip
    return (await rooms.run(ctx.now())).as_json()


async def chat_request_expiry(ctx: JobContext) -> dict[str, Any]:
    """Expire unanswered chat requests and rescind their invites; drop expired codes and the
    policy-change log older than an hour."""
    requests = ChatRequestHandler(
        ctx.db, ctx.hs, ctx.admin_token, ctx.settings.config.chat_requests,
        ctx.settings.secrets.kvnr_key,
    )  # fmt: skip
    now = ctx.now()
    result = await requests.expire_due(now)
    async with ctx.db.transaction() as conn:  # expired codes and old failed attempts
        await chat_requests_store.prune_codes(conn, now - CODE_KEEP_MS)
        pruned = await policy_changes.prune(conn, now_ms())  # log age: the real clock
    return {
        "expired": result.expired, "rescinded": result.rescinded, "failed": result.failed,
        "accepted": result.accepted, "policy_changes_pruned": pruned,
    }  # fmt: skip


async def desk_sla(ctx: JobContext) -> dict[str, Any]:
    """Remind agents before a ticket's due time, escalate breaches, return stale claims."""
    desk = build_desk(ctx.settings, ctx.db, ctx.hs, ctx.admin_token)
    return (await SlaWatch(desk).run(ctx.now())).as_json()


async def insurer_purge(ctx: JobContext) -> dict[str, Any]:
    """Delete insurer-channel messages, media and tickets older than desk.purge_after."""
    desk = build_desk(ctx.settings, ctx.db, ctx.hs, ctx.admin_token)
    return (await InsurerPurge(desk).run(ctx.now())).as_json()


async def coverage_end(ctx: JobContext) -> dict[str, Any]:
    """Warn patients before their coverage ends; on the date, end their access (resumable)."""
    ends = CoverageEnds(ctx.settings, ctx.db, ctx.hs, ctx.admin_token)
    return (await ends.run(ctx.now())).as_json()


async def mend_insurer_channels(ctx: JobContext) -> dict[str, Any]:
    """Replace insurer channels the homeserver no longer has (once at start; by hand after
    deleting rooms: it lists every room of the desk bot)."""
    return (await ChannelMend(ctx).run()).as_json()


async def homeserver_analyze(ctx: JobContext) -> dict[str, Any]:
    """Refresh the query-planner statistics of the embedded Synapse's SQLite database."""
    database = ctx.settings.synapse_sqlite
    if database is None:
        return {"skipped": "Synapse is external or on PostgreSQL"}
    took = await analyze_in_background(database)
    return {"seconds": round(took, 2) if took is not None else None}


JOBS: dict[str, Job] = {
    "leave_prompts": leave_prompts,
    "abandoned_rooms": abandoned_rooms,
    "chat_request_expiry": chat_request_expiry,
    "desk_sla": desk_sla,
    "insurer_purge": insurer_purge,
    "coverage_end": coverage_end,
    "homeserver_analyze": homeserver_analyze,
    MEND_CHANNELS: mend_insurer_channels,
}
