"""bot_devices.sync_token: saved by us once a sync's work is done; index on service rooms

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("bot_devices") as batch:
        batch.add_column(sa.Column("sync_token", sa.Text, nullable=True))
    op.create_index("ix_accounts_service_room", "accounts", ["service_room_id"])
