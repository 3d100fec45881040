"""The policy-change log: which users' policy facts changed, in commit order.

A store that changes what the Synapse module decides with (a role, a chat request, a code grant,
who shares a room with whom) calls `note(conn, users)`; at commit the transaction takes the
next tick of the one-row clock and logs the users under it. The clock row stays locked until
the commit, so on PostgreSQL too a reader that sees tick n has seen every tick below it (no
gaps to skip past); it is taken last in the transaction, just before the commit, and held only
that long. The log is pruned after an hour; a follower that fell further behind starts over.
On PostgreSQL every tick also sends a NOTIFY, so other processes need not poll the clock.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.database import BEFORE_COMMIT, NOTED_PREFIX, now_ms
from messenger.db.schema import policy_changes, policy_clock

_NOTED = NOTED_PREFIX + "policy_changes"
KEEP_MS = 3_600_000
# not a user: noted when the directory changed (who is visible to patients); every Synapse
# process that decides (the main process, each worker) fetches the visible set again
DIRECTORY = "#directory"
CHANNEL = "messenger_policy_changes"  # PostgreSQL: NOTIFY at every tick (requests/facts.py)


def note(conn: AsyncConnection, users: str | list[str]) -> None:
    noted: set[str] = conn.info.setdefault(_NOTED, set())
    noted.update([users] if isinstance(users, str) else users)
    conn.info.setdefault(BEFORE_COMMIT, {})[_NOTED] = _flush


async def _flush(conn: AsyncConnection) -> None:
    users = conn.info.pop(_NOTED, None)
    if not users:
        return
    tick = (
        await conn.execute(
            policy_clock.update()
            .where(policy_clock.c.id == 1)
            .values(seq=policy_clock.c.seq + 1)
            .returning(policy_clock.c.seq)
        )
    ).scalar_one()
    at = now_ms()
    await conn.execute(
        policy_changes.insert(), [{"seq": tick, "user_id": user, "at": at} for user in users]
    )
    if conn.dialect.name == "postgresql":  # delivered at commit to every LISTENing process
        await conn.execute(sa.text(f"NOTIFY {CHANNEL}"))


@dataclass(frozen=True)
class Changes:
    users: list[str]  # changed after `since`, each once
    through: int  # the tick to follow on from
    reset: bool  # the log no longer reaches back to `since`: start over
    clock: int  # the newest tick when this was read


# built once: SQLAlchemy memoizes a statement's cache key on the object, and the clock is read
# many times a second while the module's long polls wait
_CLOCK = sa.select(policy_clock.c.seq, policy_clock.c.pruned_through).where(policy_clock.c.id == 1)


async def clock(conn: AsyncConnection) -> tuple[int, int]:
    row = (await conn.execute(_CLOCK)).one()
    return int(row.seq), int(row.pruned_through)


async def since(conn: AsyncConnection, tick: int, limit: int = 1000) -> Changes:
    now, pruned = await clock(conn)
    if tick < pruned or tick > now:
        return Changes([], now, reset=True, clock=now)
    rows = (
        await conn.execute(
            sa.select(policy_changes.c.seq, policy_changes.c.user_id)
            .where(policy_changes.c.seq > tick)
            .order_by(policy_changes.c.seq)
            .limit(limit + 1)
        )
    ).all()
    if len(rows) > limit:  # end on a whole tick: the rest of the last one comes next time
        last = rows[-1].seq
        kept = [row for row in rows if row.seq != last]
        rows = (
            kept
            or (
                await conn.execute(
                    sa.select(policy_changes.c.seq, policy_changes.c.user_id).where(
                        policy_changes.c.seq == last
                    )
                )
            ).all()
        )
    through = int(rows[-1].seq) if rows else tick
    users = list(dict.fromkeys(str(row.user_id) for row in rows))
    return Changes(users, through, reset=False, clock=now)


async def prune(conn: AsyncConnection, now: int) -> int:
    """Drop entries older than KEEP_MS; returns how many went."""
    cutoff = now - KEEP_MS
    newest_old = (
        await conn.execute(
            sa.select(sa.func.max(policy_changes.c.seq)).where(policy_changes.c.at < cutoff)
        )
    ).scalar_one()
    if newest_old is None:
        return 0
    result = await conn.execute(policy_changes.delete().where(policy_changes.c.seq <= newest_old))
    await conn.execute(
        policy_clock.update()
        .where(policy_clock.c.id == 1, policy_clock.c.pruned_through < newest_old)
        .values(pruned_through=newest_old)
    )
    return int(result.rowcount)
