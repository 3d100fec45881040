"""insurer desk: the desk's rooms, patients' insurer channels, tickets, their messages (content
sealed), assignments to agents, the desk's outbox, the patients' events already handled

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "desk_rooms",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "desk_channels",
        sa.Column("patient_id", sa.String(255), primary_key=True),
        sa.Column("room_id", sa.String(255), nullable=False, unique=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("greeted_at", sa.BigInteger, nullable=True),
        sa.Column("pending_topic", sa.String(32), nullable=True),
        sa.Column("menu_event_id", sa.String(255), nullable=True),
        sa.Column("hold", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "tickets",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("patient_id", sa.String(255), nullable=False),
        sa.Column("channel_room_id", sa.String(255), nullable=False),
        sa.Column("topic", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("opened_at", sa.BigInteger, nullable=True),
        sa.Column("agent_id", sa.String(255), nullable=True),
        sa.Column("clock_started_at", sa.BigInteger, nullable=True),
        sa.Column("due_at", sa.BigInteger, nullable=True),
        sa.Column("first_due_at", sa.BigInteger, nullable=True),
        sa.Column("next_reminder_at", sa.BigInteger, nullable=True),
        sa.Column("reminders_sent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("breached_at", sa.BigInteger, nullable=True),
        sa.Column("escalated_at", sa.BigInteger, nullable=True),
        sa.Column("first_response_at", sa.BigInteger, nullable=True),
        sa.Column("closed_at", sa.BigInteger, nullable=True),
        sa.Column("last_activity_at", sa.BigInteger, nullable=False),
        sa.Column("hold", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("queue_event_id", sa.String(255), nullable=True),
    )
    op.create_index("ix_tickets_patient_status", "tickets", ["patient_id", "status"])
    op.create_index("ix_tickets_status_due", "tickets", ["status", "due_at"])
    op.create_index("ix_tickets_status_reminder", "tickets", ["status", "next_reminder_at"])
    op.create_index("ix_tickets_closed_at", "tickets", ["closed_at"])
    op.create_index("ix_tickets_queue_event", "tickets", ["queue_event_id"])
    op.create_index("ix_tickets_channel", "tickets", ["channel_room_id"])
    op.create_index("ix_tickets_opened_at", "tickets", ["opened_at"])
    op.create_table(
        "ticket_messages",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", _ID, nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False, unique=True),
        sa.Column("origin_room_id", sa.String(255), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("mxc", sa.String(512), nullable=True),
        sa.Column("at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_ticket_messages_ticket", "ticket_messages", ["ticket_id", "id"])
    op.create_index("ix_ticket_messages_at", "ticket_messages", ["at"])
    op.create_table(
        "ticket_assignments",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", _ID, nullable=False, index=True),
        sa.Column("agent_id", sa.String(255), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=True, unique=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("joined_at", sa.BigInteger, nullable=True),
        sa.Column("mirrored_upto", _ID, nullable=False, server_default="0"),
        sa.Column("ended_at", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "desk_outbox",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("ticket_id", _ID, nullable=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("sent_at", sa.BigInteger, nullable=True),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_index("ix_desk_outbox_unsent", "desk_outbox", ["sent_at", "room_id", "id"])
    op.create_table(
        "desk_seen",
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("at", sa.BigInteger, nullable=False, index=True),
    )


def downgrade() -> None:
    for table in ("desk_seen", "desk_outbox", "ticket_assignments", "ticket_messages", "tickets",
                  "desk_channels", "desk_rooms"):  # fmt: skip
        op.drop_table(table)
