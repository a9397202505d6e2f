"""approval_votes: each person's approval or rejection (minimumCount counts distinct approvers)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approval_votes",
        sa.Column("execution_id", sa.String(32), primary_key=True),
        sa.Column("command_id", sa.String(600), primary_key=True),
        sa.Column("voter", sa.String(255), primary_key=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("inputs", sa.Text),
        sa.Column("at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("approval_votes")
