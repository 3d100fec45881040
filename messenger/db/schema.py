"""Table definitions used by the stores. The migrations in migrations/versions create them."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("user_id", sa.String(255), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("display_name", sa.String(255), nullable=False),
    sa.Column("kvnr_digest", sa.String(64), nullable=True, unique=True),
    sa.Column("language", sa.String(2), nullable=True),
    sa.Column("service_room_id", sa.String(255), nullable=True, index=True),
    sa.Column("greeted_at", sa.BigInteger, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

bot_devices = sa.Table(
    "bot_devices",
    metadata,
    sa.Column("user_id", sa.String(255), primary_key=True),
    sa.Column("device_id", sa.String(255), nullable=False),
    sa.Column("access_token", sa.Text, nullable=False),
    sa.Column("cross_signing_seeds", sa.Text, nullable=True),
    sa.Column("cross_signed_at", sa.BigInteger, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("sync_token", sa.Text, nullable=True),
)

appservice_txns = sa.Table(
    "appservice_txns",
    metadata,
    sa.Column("txn_id", sa.String(255), primary_key=True),
    sa.Column("received_at", sa.BigInteger, nullable=False, index=True),
    sa.Column("event_count", sa.Integer, nullable=False),
)

inbox_events = sa.Table(
    "inbox_events",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("event_id", sa.String(255), nullable=True, unique=True),
    sa.Column("txn_id", sa.String(255), nullable=False),
    sa.Column("envelope", sa.Text, nullable=False),
    sa.Column("received_at", sa.BigInteger, nullable=False),
    sa.Column("processed_at", sa.BigInteger, nullable=True, index=True),
    sa.Column("error", sa.Text, nullable=True),
)

rooms = sa.Table(
    "rooms",
    metadata,
    sa.Column("room_id", sa.String(255), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("creator", sa.String(255), nullable=True),
    sa.Column("encrypted", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=True),
    sa.Column("last_event_at", sa.BigInteger, nullable=True),
    sa.Column("message_count", sa.Integer, nullable=False),
)

room_members = sa.Table(
    "room_members",
    metadata,
    sa.Column("room_id", sa.String(255), primary_key=True),
    sa.Column("user_id", sa.String(255), primary_key=True),
    sa.Column("role", sa.String(16), nullable=True),
    sa.Column("membership", sa.String(16), nullable=False),
    sa.Column("joined_at", sa.BigInteger, nullable=True),
    sa.Column("last_active_at", sa.BigInteger, nullable=True),
    sa.Column("message_count", sa.Integer, nullable=False),
)
