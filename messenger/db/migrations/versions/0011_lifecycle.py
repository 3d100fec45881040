"""lifecycle: contact e-mail and IdP subject of accounts, their end; coverage ends (warnings
sent, the resumable end job's step)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("email", sa.String(320), nullable=True))
        batch.add_column(sa.Column("idp_subject", sa.String(255), nullable=True))
        batch.add_column(sa.Column("ended_at", sa.BigInteger, nullable=True))
        batch.create_unique_constraint("uq_accounts_idp_subject", ["idp_subject"])
    op.create_table(
        "coverage_ends",
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("end_on", sa.String(10), nullable=False),  # ISO date, the insurer's calendar
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("requested_at", sa.BigInteger, nullable=False),
        sa.Column("cancelled_at", sa.BigInteger, nullable=True),
        sa.Column("warned", sa.String(64), nullable=False, server_default=""),  # days, "30,7"
        sa.Column("step", sa.String(16), nullable=False, server_default="scheduled"),
        sa.Column("started_at", sa.BigInteger, nullable=True),
        sa.Column("finished_at", sa.BigInteger, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("coverage_ends")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_constraint("uq_accounts_idp_subject", type_="unique")
        batch.drop_column("ended_at")
        batch.drop_column("idp_subject")
        batch.drop_column("email")
