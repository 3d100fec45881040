"""chat requests (patient -> practice), access codes (hashes only), code grants, notice outbox

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "chat_requests",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("room_id", sa.String(255), nullable=False, unique=True),
        sa.Column("patient_id", sa.String(255), nullable=False),
        sa.Column("practice_id", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("decided_at", sa.BigInteger, nullable=True),
        sa.Column("rescind_pending", sa.Boolean, nullable=False),
    )
    op.create_index("ix_chat_requests_patient", "chat_requests", ["patient_id", "state"])
    op.create_index("ix_chat_requests_practice", "chat_requests", ["practice_id", "state"])
    op.create_index("ix_chat_requests_due", "chat_requests", ["state", "expires_at"])
    op.create_table(
        "access_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("practice_id", sa.String(255), nullable=False, index=True),
        sa.Column("patient_id", sa.String(255), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("redeemed_by", sa.String(255), nullable=True),
        sa.Column("redeemed_at", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "code_grants",
        sa.Column("patient_id", sa.String(255), primary_key=True),
        sa.Column("practice_id", sa.String(255), primary_key=True),
        sa.Column("granted_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "code_failures",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_code_failures_user", "code_failures", ["user_id", "at"])
    op.create_table(
        "notice_outbox",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("text_key", sa.String(64), nullable=False),
        sa.Column("args", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("sent_at", sa.BigInteger, nullable=True, index=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    for table in ("notice_outbox", "code_failures", "code_grants", "access_codes", "chat_requests"):
        op.drop_table(table)
