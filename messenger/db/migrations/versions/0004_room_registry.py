"""room registry: rooms by kind and their members' roles, join times and activity

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "rooms",
        sa.Column("room_id", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("creator", sa.String(255), nullable=True),
        sa.Column("encrypted", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=True),
        sa.Column("last_event_at", sa.BigInteger, nullable=True),
        sa.Column("message_count", sa.Integer, nullable=False),
    )
    op.create_table(
        "room_members",
        sa.Column("room_id", sa.String(255), primary_key=True),
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("membership", sa.String(16), nullable=False),
        sa.Column("joined_at", sa.BigInteger, nullable=True),
        sa.Column("last_active_at", sa.BigInteger, nullable=True),
        sa.Column("message_count", sa.Integer, nullable=False),
    )
    op.create_index("ix_room_members_user", "room_members", ["user_id"])
