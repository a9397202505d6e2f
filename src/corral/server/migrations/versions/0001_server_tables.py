"""users, tokens, project roles, projects, delegates, audit log

Revision ID: s0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "s0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the first revision is the tables as defined today; later revisions spell out their changes
    from corral.server.tables import metadata

    metadata.create_all(op.get_bind())


def downgrade() -> None:
    from corral.server.tables import metadata

    metadata.drop_all(op.get_bind())
