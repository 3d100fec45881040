"""The one device of each bot: id, access token and cross-signing seeds, kept across restarts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.db.schema import bot_devices
from messenger.ids import DeviceID, UserID


@dataclass(frozen=True)
class BotDevice:
    user_id: UserID
    device_id: DeviceID
    access_token: str
    cross_signing_seeds: str | None
    cross_signed_at: int | None


async def get(conn: AsyncConnection, user_id: UserID) -> BotDevice | None:
    row = (await conn.execute(bot_devices.select().where(bot_devices.c.user_id == user_id))).first()
    if row is None:
        return None
    m = row._mapping
    return BotDevice(
        user_id=UserID(m["user_id"]),
        device_id=DeviceID(m["device_id"]),
        access_token=m["access_token"],
        cross_signing_seeds=m["cross_signing_seeds"],
        cross_signed_at=m["cross_signed_at"],
    )


async def save(
    conn: AsyncConnection, user_id: UserID, device_id: DeviceID, access_token: str, at: int
) -> None:
    await conn.execute(bot_devices.delete().where(bot_devices.c.user_id == user_id))
    await conn.execute(
        bot_devices.insert().values(
            user_id=user_id, device_id=device_id, access_token=access_token, created_at=at
        )
    )


async def mark_cross_signed(conn: AsyncConnection, user_id: UserID, seeds: str, at: int) -> None:
    await conn.execute(
        bot_devices.update()
        .where(bot_devices.c.user_id == user_id)
        .values(cross_signing_seeds=seeds, cross_signed_at=at)
    )
