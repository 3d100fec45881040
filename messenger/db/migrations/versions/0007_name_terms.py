"""name_terms: the words that occur in provider names (to skip the name tier when none can match)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table("name_terms", sa.Column("term", sa.String(64), primary_key=True))
