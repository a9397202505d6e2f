"""trigger polls and the tags triggers have seen

Revision ID: s0002
Revises: s0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "s0002"
down_revision = "s0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # s0001 creates every table of tables.py on a new database; an older one lacks these two
    from corral.server.tables import trigger_polls, trigger_tags

    trigger_polls.create(op.get_bind(), checkfirst=True)
    trigger_tags.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    from corral.server.tables import trigger_polls, trigger_tags

    trigger_tags.drop(op.get_bind(), checkfirst=True)
    trigger_polls.drop(op.get_bind(), checkfirst=True)
