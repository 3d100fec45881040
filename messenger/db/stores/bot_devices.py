"""The one device of each bot: id, access token, cross-signing seeds and sync position.

The token and the seeds are stored sealed (messenger.secretbox); callers pass the box.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.schema import bot_devices
from messenger.ids import DeviceID, UserID
from messenger.secretbox import SecretBox


@dataclass(frozen=True)
class BotDevice:
    user_id: UserID
    device_id: DeviceID
    access_token: str
    cross_signing_seeds: str | None
    cross_signed_at: int | None
    sync_token: str | None


async def get(conn: AsyncConnection, user_id: UserID, box: SecretBox) -> BotDevice | None:
    row = (await conn.execute(bot_devices.select().where(bot_devices.c.user_id == user_id))).first()
    if row is None:
        return None
    m = row._mapping
    seeds = m["cross_signing_seeds"]
    return BotDevice(
        user_id=UserID(m["user_id"]),
        device_id=DeviceID(m["device_id"]),
        access_token=box.open(m["access_token"]),
        cross_signing_seeds=box.open(seeds) if seeds else None,
        cross_signed_at=m["cross_signed_at"],
        sync_token=m["sync_token"],
    )


async def save_device(
    conn: AsyncConnection,
    user_id: UserID,
    device_id: DeviceID,
    access_token: str,
    at: int,
    box: SecretBox,
) -> None:
    """A new device: keeps the cross-signing seeds (same identity), resets signature and sync."""
    sealed = box.seal(access_token)
    updated = await conn.execute(
        bot_devices.update()
        .where(bot_devices.c.user_id == user_id)
        .values(
            device_id=device_id,
            access_token=sealed,
            cross_signed_at=None,
            sync_token=None,
            created_at=at,
        )
    )
    if updated.rowcount == 0:
        await conn.execute(
            bot_devices.insert().values(
                user_id=user_id, device_id=device_id, access_token=sealed, created_at=at
            )
        )


async def mark_cross_signed(
    conn: AsyncConnection, user_id: UserID, seeds: str, at: int, box: SecretBox
) -> None:
    await conn.execute(
        bot_devices.update()
        .where(bot_devices.c.user_id == user_id)
        .values(cross_signing_seeds=box.seal(seeds), cross_signed_at=at)
    )


async def save_sync_token(conn: AsyncConnection, user_id: UserID, token: str) -> None:
    await conn.execute(
        bot_devices.update().where(bot_devices.c.user_id == user_id).values(sync_token=token)
    )


async def forget(conn: AsyncConnection, user_id: UserID) -> None:
    await conn.execute(bot_devices.delete().where(bot_devices.c.user_id == user_id))
