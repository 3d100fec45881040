"""retention: job runs (locks, last results), APScheduler's job store, the deletion audit log,
leave-prompt thresholds and prompts, room deletions, media known to our bots

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=True),
        sa.Column("lease_until", sa.BigInteger, nullable=False),
        sa.Column("last_started_at", sa.BigInteger, nullable=True),
        sa.Column("last_finished_at", sa.BigInteger, nullable=True),
        sa.Column("last_result", sa.Text, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("runs", sa.Integer, nullable=False),
    )
    # exactly APScheduler 3's SQLAlchemyJobStore table, so that it finds it and creates nothing
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25), index=True),
        sa.Column("job_state", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "retention_audit",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("job", sa.String(64), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False, index=True),
    )
    op.create_table(
        "leave_settings",
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("months", sa.Integer, nullable=True),  # NULL: prompts off
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "leave_prompts",
        sa.Column("patient_id", sa.String(255), primary_key=True),
        sa.Column("room_id", sa.String(255), primary_key=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("prompted_at", sa.BigInteger, nullable=False),
        sa.Column("answer", sa.String(16), nullable=True),
        sa.Column("answered_at", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "room_deletions",
        sa.Column("room_id", sa.String(255), primary_key=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("delete_id", sa.String(255), nullable=True),
        sa.Column("requested_at", sa.BigInteger, nullable=False),
        sa.Column("finished_at", sa.BigInteger, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_table(
        "known_media",
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("mxc", sa.String(512), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_rooms_kind_last_event", "rooms", ["kind", "last_event_at"])
    op.create_index("ix_room_members_user_membership", "room_members", ["user_id", "membership"])


def downgrade() -> None:
    op.drop_index("ix_room_members_user_membership", "room_members")
    op.drop_index("ix_rooms_kind_last_event", "rooms")
    for table in ("known_media", "room_deletions", "leave_prompts", "leave_settings",
                  "retention_audit", "apscheduler_jobs", "job_runs"):  # fmt: skip
        op.drop_table(table)
