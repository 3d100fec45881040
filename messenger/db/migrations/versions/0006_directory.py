"""provider directory: providers, practice settings, typo vocabulary, full-text index

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "providers",
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
    op.create_table(
        "provider_settings",
        sa.Column("matrix_id", sa.String(255), primary_key=True),
        sa.Column("listed", sa.Boolean, nullable=False),
        sa.Column("accepting", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "search_terms",
        sa.Column("variant", sa.String(64), primary_key=True),
        sa.Column("term", sa.String(64), primary_key=True),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE provider_fts USING fts5("
            "name, specialty, place, tokenize = 'unicode61', prefix = '2 3 4')"
        )
    else:
        op.execute(
            "CREATE TABLE provider_fts (provider_id BIGINT PRIMARY KEY, document tsvector NOT NULL)"
        )
        op.execute("CREATE INDEX ix_provider_fts_document ON provider_fts USING GIN (document)")
