"""policy changes: the log of users whose policy facts changed, which the Synapse module follows
to keep its in-memory facts current; a one-row clock orders it; users' invite permission
settings (TI-M account data) as the module passed them on

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    clock = op.create_table(
        "policy_clock",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("pruned_through", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(clock, [{"id": 1, "seq": 0, "pruned_through": 0}])
    op.create_table(
        "policy_changes",
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_policy_changes_at", "policy_changes", ["at"])
    op.create_table(
        "invite_permissions",
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("type", sa.String(128), primary_key=True),
        sa.Column("content", sa.Text, nullable=True),  # JSON; NULL: the user has none
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("invite_permissions")
    op.drop_table("policy_changes")
    op.drop_table("policy_clock")
