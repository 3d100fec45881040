"""bot_devices: each bot's one device, kept across restarts

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "bot_devices",
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("device_id", sa.String(255), nullable=False),
        sa.Column("access_token", sa.Text, nullable=False),
        sa.Column("cross_signing_seeds", sa.Text, nullable=True),
        sa.Column("cross_signed_at", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
