"""The tables of the store. Times are seconds since the epoch (UTC, floats); JSON is text.

    executions   one row per pipeline run: its pipeline snapshot, inputs, status, owner, lease
    stage_states one row per stage of an execution (status, times, error)
    step_states  one row per step of an execution, rollback steps included (status, attempt, outputs)
    log_lines    timestamped log lines per step, with the log section they belong to
    journal      the ordered events the interpreter replays, and steps' checkpoints
    approvals    approval and manual-intervention requests and their decisions
    approval_votes  each person's approval or rejection of a request (minimumCount counts them)
    locks        one row per ECS service being deployed (a lease, kept alive by a heartbeat)

The migrations in `migrations/versions/` create these; keep the two in step.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

# Server defaults as the migrations made them: a new SQLite store is made from these tables
# (store.Store.migrate) and must be the one the migrations make.
metadata = MetaData()

# SQLite only makes INTEGER PRIMARY KEY an autoincrementing rowid.
_BigId = BigInteger().with_variant(Integer(), "sqlite")

executions = Table(
    "executions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("project", String(255), nullable=False),
    Column("project_root", Text, nullable=False),
    Column("pipeline_id", String(128), nullable=False),
    Column("pipeline_name", String(255), nullable=False),
    Column("sequence_id", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("snapshot", Text, nullable=False),
    Column("inputs", Text, nullable=False),
    Column("error", Text),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("ended_at", Float),
    Column("owner", String(255)),
    Column("heartbeat_at", Float),
    Column("abort_requested", Boolean, nullable=False, default=False, server_default=false()),
    Column("abort_by", String(255)),
    UniqueConstraint("project", "pipeline_id", "sequence_id", name="uq_executions_sequence"),
)

stage_states = Table(
    "stage_states",
    metadata,
    Column("execution_id", String(32), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("identifier", String(128), nullable=False),
    Column("name", String(255), nullable=False),
    Column("status", String(32), nullable=False),
    Column("started_at", Float),
    Column("ended_at", Float),
    Column("error", Text),
    Column("rolled_back", Boolean, nullable=False, default=False, server_default=false()),
)

step_states = Table(
    "step_states",
    metadata,
    Column("execution_id", String(32), primary_key=True),
    Column("key", String(512), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("stage_key", String(255), nullable=False),
    Column("identifier", String(128), nullable=False),
    Column("name", String(255), nullable=False),
    Column("type", String(64), nullable=False),
    Column("phase", String(16), nullable=False),
    Column("status", String(32), nullable=False),
    Column("attempt", Integer, nullable=False, default=1, server_default="1"),
    Column("started_at", Float),
    Column("ended_at", Float),
    Column("outputs", Text),
    Column("error", Text),
    Column("failure_type", String(64)),
)

log_lines = Table(
    "log_lines",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("execution_id", String(32), nullable=False),
    Column("step_key", String(512), nullable=False),
    Column("at", Float, nullable=False),
    Column("section", String(128), nullable=False),
    Column("level", String(8), nullable=False),
    Column("message", Text, nullable=False),
    Index("ix_log_lines_step", "execution_id", "step_key", "id"),
)

journal = Table(
    "journal",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("execution_id", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("command_id", String(600)),
    Column("step_key", String(512)),
    Column("at", Float, nullable=False),
    Column("payload", Text, nullable=False),
    Index("ix_journal_execution", "execution_id", "id"),
)

approvals = Table(
    "approvals",
    metadata,
    Column("execution_id", String(32), primary_key=True),
    Column("command_id", String(600), primary_key=True),
    Column("step_key", String(512), nullable=False),
    Column("kind", String(16), nullable=False),  # approval | intervention
    Column("status", String(32), nullable=False),  # Waiting, Approved, Rejected, Expired, Decided, Cancelled
    Column("message", Text),
    Column("approvers", Text),
    Column("inputs", Text),
    Column("decision", String(64)),
    Column("comment", Text),
    Column("decided_by", String(255)),
    Column("created_at", Float, nullable=False),
    Column("decided_at", Float),
)

approval_votes = Table(
    "approval_votes",
    metadata,
    Column("execution_id", String(32), primary_key=True),
    Column("command_id", String(600), primary_key=True),
    Column("voter", String(255), primary_key=True),  # one vote per person and request
    Column("decision", String(16), nullable=False),  # Approve | Reject
    Column("comment", Text),
    Column("inputs", Text),
    Column("at", Float, nullable=False),
)

locks = Table(
    "locks",
    metadata,
    Column("key", String(1024), primary_key=True),
    Column("execution_id", String(32), nullable=False),
    Column("owner", String(255), nullable=False),
    Column("description", Text, nullable=False),
    Column("acquired_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)
