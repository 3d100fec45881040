"""directory name index (PostgreSQL): a GIN index over the name part of each provider's document,
so "the name matches a query word" is an exact index condition instead of a weight recheck

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute(
            "CREATE INDEX ix_provider_fts_name ON provider_fts "
            "USING GIN (ts_filter(document, '{a}'))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP INDEX ix_provider_fts_name")
