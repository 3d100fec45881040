"""accounts: every person's role, display name and (hashed) KVNR

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("kvnr_digest", sa.String(64), nullable=True, unique=True),
        sa.Column("language", sa.String(2), nullable=True),
        sa.Column("service_room_id", sa.String(255), nullable=True),
        sa.Column("greeted_at", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
