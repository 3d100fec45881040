"""appservice inbox: transactions and event envelopes, deduplicated by id

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "appservice_txns",
        sa.Column("txn_id", sa.String(255), primary_key=True),
        sa.Column("received_at", sa.BigInteger, nullable=False, index=True),
        sa.Column("event_count", sa.Integer, nullable=False),
    )
    op.create_table(
        "inbox_events",
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
