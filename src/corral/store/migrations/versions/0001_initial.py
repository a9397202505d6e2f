"""executions, stage and step states, log lines, journal, approvals, locks

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "executions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("project_root", sa.Text, nullable=False),
        sa.Column("pipeline_id", sa.String(128), nullable=False),
        sa.Column("pipeline_name", sa.String(255), nullable=False),
        sa.Column("sequence_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("snapshot", sa.Text, nullable=False),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("ended_at", sa.Float),
        sa.Column("owner", sa.String(255)),
        sa.Column("heartbeat_at", sa.Float),
        sa.Column("abort_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("abort_by", sa.String(255)),
        sa.UniqueConstraint("project", "pipeline_id", "sequence_id", name="uq_executions_sequence"),
    )
    op.create_table(
        "stage_states",
        sa.Column("execution_id", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("identifier", sa.String(128), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("ended_at", sa.Float),
        sa.Column("error", sa.Text),
        sa.Column("rolled_back", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "step_states",
        sa.Column("execution_id", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("stage_key", sa.String(255), nullable=False),
        sa.Column("identifier", sa.String(128), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
        sa.Column("started_at", sa.Float),
        sa.Column("ended_at", sa.Float),
        sa.Column("outputs", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("failure_type", sa.String(64)),
    )
    op.create_table(
        "log_lines",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("execution_id", sa.String(32), nullable=False),
        sa.Column("step_key", sa.String(512), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("section", sa.String(128), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_log_lines_step", "log_lines", ["execution_id", "step_key", "id"])
    op.create_table(
        "journal",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("execution_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("command_id", sa.String(600)),
        sa.Column("step_key", sa.String(512)),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("ix_journal_execution", "journal", ["execution_id", "id"])
    op.create_table(
        "approvals",
        sa.Column("execution_id", sa.String(32), primary_key=True),
        sa.Column("command_id", sa.String(600), primary_key=True),
        sa.Column("step_key", sa.String(512), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("approvers", sa.Text),
        sa.Column("inputs", sa.Text),
        sa.Column("decision", sa.String(64)),
        sa.Column("comment", sa.Text),
        sa.Column("decided_by", sa.String(255)),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("decided_at", sa.Float),
    )
    op.create_table(
        "locks",
        sa.Column("key", sa.String(1024), primary_key=True),
        sa.Column("execution_id", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("acquired_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("locks", "approvals", "journal", "log_lines", "step_states", "stage_states", "executions"):
        op.drop_table(table)
