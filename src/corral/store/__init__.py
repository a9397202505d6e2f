"""Persistence: executions, the journal the engine replays, step states, logs, approvals, locks.

    store = Store.for_project(project)      # SQLite at <project>/.corral/corral.db (WAL)
    store = Store.open("postgresql+psycopg://user@host/db")

Modules:
    models.py      the tables (SQLAlchemy Core); migrations/ the Alembic scripts that make them
    store.py       Store: one method per thing the engine, the CLI or a server reads or writes
"""

from corral.store.store import (
    ApprovalRecord,
    ExecutionRecord,
    JournalRecord,
    LockRecord,
    LogRecord,
    StageRecord,
    StepRecord,
    Store,
    VoteRecord,
    Write,
)

__all__ = [
    "ApprovalRecord",
    "ExecutionRecord",
    "JournalRecord",
    "LockRecord",
    "LogRecord",
    "StageRecord",
    "StepRecord",
    "Store",
    "VoteRecord",
    "Write",
]
