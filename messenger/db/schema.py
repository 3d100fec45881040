"""Table definitions used by the stores. The migrations in migrations/versions create them."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("user_id", sa.String(255), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("display_name", sa.String(255), nullable=False),
    sa.Column("kvnr_digest", sa.String(64), nullable=True, unique=True),
    sa.Column("language", sa.String(2), nullable=True),
    sa.Column("service_room_id", sa.String(255), nullable=True, index=True),
    sa.Column("greeted_at", sa.BigInteger, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("idp_subject", sa.String(255), nullable=True, unique=True),
    sa.Column("ended_at", sa.BigInteger, nullable=True),
)

coverage_ends = sa.Table(  # a patient's coverage end: warnings sent, the end job's progress
    "coverage_ends",
    metadata,
    sa.Column("user_id", sa.String(255), primary_key=True),
    sa.Column("end_on", sa.String(10), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("requested_at", sa.BigInteger, nullable=False),
    sa.Column("cancelled_at", sa.BigInteger, nullable=True),
    sa.Column("warned", sa.String(64), nullable=False, server_default=""),
    sa.Column("step", sa.String(16), nullable=False, server_default="scheduled"),
    sa.Column("started_at", sa.BigInteger, nullable=True),
    sa.Column("finished_at", sa.BigInteger, nullable=True),
)

bot_devices = sa.Table(
    "bot_devices",
    metadata,
    sa.Column("user_id", sa.String(255), primary_key=True),
    sa.Column("device_id", sa.String(255), nullable=False),
    sa.Column("access_token", sa.Text, nullable=False),
    sa.Column("cross_signing_seeds", sa.Text, nullable=True),
    sa.Column("cross_signed_at", sa.BigInteger, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("sync_token", sa.Text, nullable=True),
)

appservice_txns = sa.Table(
    "appservice_txns",
    metadata,
    sa.Column("txn_id", sa.String(255), primary_key=True),
    sa.Column("received_at", sa.BigInteger, nullable=False, index=True),
    sa.Column("event_count", sa.Integer, nullable=False),
)

inbox_events = sa.Table(
    "inbox_events",
    metadata,
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

rooms = sa.Table(
    "rooms",
    metadata,
    sa.Column("room_id", sa.String(255), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("creator", sa.String(255), nullable=True),
    sa.Column("encrypted", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=True),
    sa.Column("last_event_at", sa.BigInteger, nullable=True),
    sa.Column("message_count", sa.Integer, nullable=False),
)

room_members = sa.Table(
    "room_members",
    metadata,
    sa.Column("room_id", sa.String(255), primary_key=True),
    sa.Column("user_id", sa.String(255), primary_key=True),
    sa.Column("role", sa.String(16), nullable=True),
    sa.Column("membership", sa.String(16), nullable=False),
    sa.Column("joined_at", sa.BigInteger, nullable=True),
    sa.Column("last_active_at", sa.BigInteger, nullable=True),
    sa.Column("message_count", sa.Integer, nullable=False),
)

providers = sa.Table(
    "providers",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("source_ref", sa.String(255), nullable=False),
    sa.Column("matrix_id", sa.String(255), nullable=False, index=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("specialties", sa.Text, nullable=False),
    sa.Column("street", sa.String(255), nullable=False),
    sa.Column("postcode", sa.String(10), nullable=False, index=True),
    sa.Column("city", sa.String(255), nullable=False),
    sa.Column("city_folded", sa.String(255), nullable=False, index=True),
    sa.Column("hidden", sa.Boolean, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("source", "source_ref", name="uq_providers_source_ref"),
)

provider_settings = sa.Table(
    "provider_settings",
    metadata,
    sa.Column("matrix_id", sa.String(255), primary_key=True),
    sa.Column("listed", sa.Boolean, nullable=False),
    sa.Column("accepting", sa.Boolean, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

search_terms = sa.Table(
    "search_terms",
    metadata,
    sa.Column("variant", sa.String(64), primary_key=True),
    sa.Column("term", sa.String(64), primary_key=True),
)
name_terms = sa.Table("name_terms", metadata, sa.Column("term", sa.String(64), primary_key=True))

# provider_fts is dialect-specific (FTS5 virtual table / tsvector table): raw SQL in the store.

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

chat_requests = sa.Table(
    "chat_requests",
    metadata,
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

access_codes = sa.Table(
    "access_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("practice_id", sa.String(255), nullable=False),
    sa.Column("patient_id", sa.String(255), nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("redeemed_by", sa.String(255), nullable=True),
    sa.Column("redeemed_at", sa.BigInteger, nullable=True),
)

code_grants = sa.Table(
    "code_grants",
    metadata,
    sa.Column("patient_id", sa.String(255), primary_key=True),
    sa.Column("practice_id", sa.String(255), primary_key=True),
    sa.Column("granted_at", sa.BigInteger, nullable=False),
)

code_failures = sa.Table(
    "code_failures",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.String(255), nullable=False),
    sa.Column("at", sa.BigInteger, nullable=False),
)

notice_outbox = sa.Table(
    "notice_outbox",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.String(255), nullable=False),
    sa.Column("text_key", sa.String(64), nullable=False),
    sa.Column("args", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("sent_at", sa.BigInteger, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.BigInteger, nullable=False, server_default="0"),
)

# --- retention ------------------------------------------------------------------------------
job_runs = sa.Table(
    "job_runs",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(128), nullable=True),
    sa.Column("lease_until", sa.BigInteger, nullable=False),
    sa.Column("last_started_at", sa.BigInteger, nullable=True),
    sa.Column("last_finished_at", sa.BigInteger, nullable=True),
    sa.Column("last_result", sa.Text, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("runs", sa.Integer, nullable=False),
)
# apscheduler_jobs belongs to APScheduler's SQLAlchemyJobStore (created by migration 0009).
retention_audit = sa.Table(
    "retention_audit",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(64), nullable=False),
    sa.Column("room_id", sa.String(255), nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("at", sa.BigInteger, nullable=False, index=True),
)
leave_settings = sa.Table(
    "leave_settings",
    metadata,
    sa.Column("user_id", sa.String(255), primary_key=True),
    sa.Column("months", sa.Integer, nullable=True),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)
leave_prompts = sa.Table(
    "leave_prompts",
    metadata,
    sa.Column("patient_id", sa.String(255), primary_key=True),
    sa.Column("room_id", sa.String(255), primary_key=True),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("prompted_at", sa.BigInteger, nullable=False),
    sa.Column("answer", sa.String(16), nullable=True),
    sa.Column("answered_at", sa.BigInteger, nullable=True),
)
room_deletions = sa.Table(
    "room_deletions",
    metadata,
    sa.Column("room_id", sa.String(255), primary_key=True),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("delete_id", sa.String(255), nullable=True),
    sa.Column("requested_at", sa.BigInteger, nullable=False),
    sa.Column("finished_at", sa.BigInteger, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
)
known_media = sa.Table(
    "known_media",
    metadata,
    sa.Column("event_id", sa.String(255), primary_key=True),
    sa.Column("room_id", sa.String(255), nullable=False),
    sa.Column("mxc", sa.String(512), nullable=False),
    sa.Column("at", sa.BigInteger, nullable=False),
)

# --- insurer desk ---------------------------------------------------------------------------
desk_rooms = sa.Table(
    "desk_rooms",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),  # queue | supervisors
    sa.Column("room_id", sa.String(255), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)
desk_channels = sa.Table(
    "desk_channels",
    metadata,
    sa.Column("patient_id", sa.String(255), primary_key=True),
    sa.Column("room_id", sa.String(255), nullable=False, unique=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("greeted_at", sa.BigInteger, nullable=True),
    sa.Column("pending_topic", sa.String(32), nullable=True),
    sa.Column("menu_event_id", sa.String(255), nullable=True),
    sa.Column("hold", sa.Boolean, nullable=False, server_default=sa.false()),
)
tickets = sa.Table(
    "tickets",
    metadata,
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
ticket_messages = sa.Table(
    "ticket_messages",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("ticket_id", _ID, nullable=False),
    sa.Column("event_id", sa.String(255), nullable=False, unique=True),
    sa.Column("origin_room_id", sa.String(255), nullable=False),
    sa.Column("author", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # patient | reply | note | closing
    sa.Column("content", sa.Text, nullable=False),  # sealed (SecretBox) Matrix content
    sa.Column("mxc", sa.String(512), nullable=True),
    sa.Column("at", sa.BigInteger, nullable=False),
)
ticket_assignments = sa.Table(
    "ticket_assignments",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("ticket_id", _ID, nullable=False, index=True),
    sa.Column("agent_id", sa.String(255), nullable=False),
    sa.Column("room_id", sa.String(255), nullable=True, unique=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("joined_at", sa.BigInteger, nullable=True),
    sa.Column("mirrored_upto", _ID, nullable=False, server_default="0"),
    sa.Column("ended_at", sa.BigInteger, nullable=True),
)
desk_outbox = sa.Table(
    "desk_outbox",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("room_id", sa.String(255), nullable=False),
    sa.Column("content", sa.Text, nullable=False),  # sealed Matrix content
    sa.Column("ticket_id", _ID, nullable=True),
    sa.Column("purpose", sa.String(16), nullable=False),  # queue_post | message
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("sent_at", sa.BigInteger, nullable=True),
    sa.Column("event_id", sa.String(255), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.BigInteger, nullable=False, server_default="0"),
)
desk_seen = sa.Table(  # patients' events the desk has handled (a replay after a crash is skipped)
    "desk_seen",
    metadata,
    sa.Column("event_id", sa.String(255), primary_key=True),
    sa.Column("at", sa.BigInteger, nullable=False, index=True),
)

# users whose policy facts (role, requests, grants, shared rooms) changed, in commit order: the
# Synapse module follows this log (see db/stores/policy_changes.py)
policy_clock = sa.Table(
    "policy_clock",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("pruned_through", sa.BigInteger, nullable=False),
)

policy_changes = sa.Table(
    "policy_changes",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("user_id", sa.String(255), primary_key=True),
    sa.Column("at", sa.BigInteger, nullable=False, index=True),
)

# users' invite permission settings (TI-M account data), as the module passed them on; the
# module reads Synapse's account data itself for a user without a row here
invite_permissions = sa.Table(
    "invite_permissions",
    metadata,
    sa.Column("user_id", sa.String(255), primary_key=True),
    sa.Column("type", sa.String(128), primary_key=True),
    sa.Column("content", sa.Text, nullable=True),  # JSON; NULL: the user has none
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)
