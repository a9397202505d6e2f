"""The store: executions, their journal, step states, logs, approvals and locks, in SQL.

    store = Store.open("sqlite:////work/app/.corral/corral.db")   # migrates on open
    store = Store.open("postgresql+psycopg://corral@db/corral")
    store = Store.for_project(project)                              # <project>/.corral/corral.db

SQLite runs in WAL mode with `BEGIN IMMEDIATE` transactions, so several threads and processes
(an executor, a CLI approving a step) share one file without "database is locked" surprises.
Writes that belong together (an event and the state it changes) are one transaction.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    and_,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from corral.private_files import protect_sqlite

from .models import (
    approval_votes,
    approvals,
    executions,
    journal,
    locks,
    log_lines,
    metadata,
    stage_states,
    step_states,
)

if TYPE_CHECKING:
    from corral.config.project import Project

MIGRATIONS = Path(__file__).parent / "migrations"
# Alembic's own bookkeeping table, as Alembic creates it (alembic.runtime.migration)
_ALEMBIC_VERSION = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)
HEAD = "0002"  # the newest revision under migrations/versions (a test checks it is Alembic's head)


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if found is None else str(found)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


@dataclass(frozen=True)
class ExecutionRecord:
    id: str
    project: str
    project_root: str
    pipeline_id: str
    pipeline_name: str
    sequence_id: int
    status: str
    snapshot: dict[str, Any]
    inputs: dict[str, Any]
    error: str | None
    created_at: float
    started_at: float | None
    ended_at: float | None
    owner: str | None
    heartbeat_at: float | None
    abort_requested: bool
    abort_by: str | None


@dataclass(frozen=True)
class StageRecord:
    key: str
    position: int
    identifier: str
    name: str
    status: str
    started_at: float | None
    ended_at: float | None
    error: str | None
    rolled_back: bool


@dataclass(frozen=True)
class StepRecord:
    key: str
    position: int
    stage_key: str
    identifier: str
    name: str
    type: str
    phase: str
    status: str
    attempt: int
    started_at: float | None
    ended_at: float | None
    outputs: dict[str, Any]
    error: str | None
    failure_type: str | None


@dataclass(frozen=True)
class JournalRecord:
    id: int
    kind: str
    command_id: str | None
    step_key: str | None
    at: float
    payload: dict[str, Any]


@dataclass(frozen=True)
class LogRecord:
    id: int
    step_key: str
    at: float
    section: str
    level: str
    message: str


@dataclass(frozen=True)
class ApprovalRecord:
    execution_id: str
    command_id: str
    step_key: str
    kind: str
    status: str
    message: str | None
    approvers: Any
    inputs: Any
    decision: str | None
    comment: str | None
    decided_by: str | None
    created_at: float
    decided_at: float | None


@dataclass(frozen=True)
class VoteRecord:
    """One person's decision on an approval request."""

    voter: str
    decision: str  # Approve | Reject
    comment: str | None
    inputs: dict[str, Any]
    at: float


@dataclass(frozen=True)
class LockRecord:
    key: str
    execution_id: str
    owner: str
    description: dict[str, Any]
    acquired_at: float
    expires_at: float


@dataclass
class Write:
    """What one transaction writes: journal events, state rows, execution fields, log lines."""

    events: list[dict[str, Any]] = field(default_factory=list)  # kind, command_id, step_key, payload
    stages: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    execution: dict[str, Any] = field(default_factory=dict)
    logs: list[dict[str, Any]] = field(default_factory=list)  # step_key, at, section, level, message
    # approvals / interventions to open (kept when they exist): command_id, step_key, kind, ...
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.events or self.stages or self.steps or self.execution or self.logs or self.requests)


class Store:
    """One database; safe to share between threads. Close it when done."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=True)
        self._changes = threading.Condition()
        self._generations: dict[str, int] = {}

    # -- opening -----------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Connect to `url` (sqlite:///path or postgresql+psycopg://...) and bring its schema up to date.
        A SQLite file is made (or narrowed to) mode 0600: it holds executions' inputs and outputs."""
        protect_sqlite(url)
        store = cls(_engine(url))
        if migrate:
            store.migrate()
        return store

    @classmethod
    def for_project(cls, project: Project | Path | str) -> Store:
        """The project's store: corral.yaml's `project.store.url`, by default <root>/.corral/corral.db."""
        from corral.config.project import Project, read_settings

        if isinstance(project, Project):
            root, settings = project.root, project.settings
        else:
            root = Path(project).resolve()
            settings, _ = read_settings(root)
        url = settings.store_url(root)
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        return cls.open(url)

    def migrate(self) -> None:
        """Bring the schema to HEAD; a database already there is left alone without loading
        Alembic (it brings Mako and Pygments, several MiB kept by every `corral run`)."""
        if self.schema_revision() == HEAD:
            return
        if self.engine.dialect.name == "sqlite" and self._create_at_head():
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # two processes opening a fresh database at once
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7301446)")
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def _create_at_head(self) -> bool:
        """Make an empty SQLite database's tables at HEAD as the migrations would; False when
        it is not empty and not at HEAD (an older schema: Alembic upgrades it). BEGIN IMMEDIATE
        serialises two processes opening the same new file."""
        with self.engine.begin() as conn:
            if inspect(conn).get_table_names():  # another process may have just made them
                return _revision(conn) == HEAD
            metadata.create_all(conn)
            _ALEMBIC_VERSION.create(conn)
            conn.execute(insert(_ALEMBIC_VERSION).values(version_num=HEAD))
        return True

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at; None when it has none yet."""
        with self.engine.connect() as conn:
            return _revision(conn)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # -- executions --------------------------------------------------------------------

    def create_execution(
        self,
        *,
        project: str,
        project_root: str,
        pipeline_id: str,
        pipeline_name: str,
        snapshot: Mapping[str, Any],
        inputs: Mapping[str, Any],
        status: str = "Queued",
        execution_id: str | None = None,
    ) -> ExecutionRecord:
        """A new execution with the next sequence id of its pipeline."""
        execution_id = execution_id or uuid.uuid4().hex
        for _ in range(20):  # another process may take the same sequence id first
            try:
                with self._tx() as conn:
                    last = conn.execute(
                        select(func.max(executions.c.sequence_id)).where(
                            executions.c.project == project, executions.c.pipeline_id == pipeline_id
                        )
                    ).scalar()
                    conn.execute(
                        insert(executions).values(
                            id=execution_id,
                            project=project,
                            project_root=project_root,
                            pipeline_id=pipeline_id,
                            pipeline_name=pipeline_name,
                            sequence_id=(last or 0) + 1,
                            status=status,
                            snapshot=_dumps(snapshot),
                            inputs=_dumps(inputs),
                            created_at=time.time(),
                            abort_requested=False,
                        )
                    )
                break
            except IntegrityError:
                continue
        found = self.execution(execution_id)
        assert found is not None
        return found

    def execution(self, execution_id: str) -> ExecutionRecord | None:
        with self._tx() as conn:
            row = conn.execute(select(executions).where(executions.c.id == execution_id)).mappings().first()
        return None if row is None else _execution(row)

    def executions(
        self, *, pipeline_id: str | None = None, status: Iterable[str] | None = None, limit: int = 50
    ) -> list[ExecutionRecord]:
        """Newest first."""
        query = select(executions).order_by(executions.c.created_at.desc()).limit(limit)
        if pipeline_id is not None:
            query = query.where(executions.c.pipeline_id == pipeline_id)
        if status is not None:
            query = query.where(executions.c.status.in_(list(status)))
        with self._tx() as conn:
            return [_execution(row) for row in conn.execute(query).mappings()]

    def update_execution(self, execution_id: str, **values: Any) -> None:
        with self._tx() as conn:
            conn.execute(update(executions).where(executions.c.id == execution_id).values(**values))

    def claim(self, execution_id: str, owner: str, *, lease: float, force: bool = False) -> str | None:
        """Make `owner` the process running the execution; the current owner's name when another
        live process (heartbeat within the lease) runs it and `force` is not set."""
        now = time.time()
        with self._tx() as conn:
            row = conn.execute(
                select(executions.c.owner, executions.c.heartbeat_at).where(executions.c.id == execution_id)
            ).first()
            if row is None:
                raise KeyError(execution_id)
            current, beat = row
            if not force and current and current != owner and beat is not None and now - beat < lease:
                return str(current)
            conn.execute(
                update(executions)
                .where(executions.c.id == execution_id)
                .values(owner=owner, heartbeat_at=now)
            )
        return None

    def heartbeat(self, execution_id: str, owner: str, *, lease: float) -> tuple[bool, str | None]:
        """Keep the execution's and its locks' leases alive; returns (abort requested, by whom)."""
        now = time.time()
        with self._tx() as conn:
            conn.execute(
                update(executions)
                .where(executions.c.id == execution_id, executions.c.owner == owner)
                .values(heartbeat_at=now)
            )
            conn.execute(
                update(locks)
                .where(locks.c.execution_id == execution_id, locks.c.owner == owner)
                .values(expires_at=now + lease)
            )
            row = conn.execute(
                select(executions.c.abort_requested, executions.c.abort_by).where(
                    executions.c.id == execution_id
                )
            ).first()
        return (bool(row[0]), row[1]) if row else (False, None)

    def request_abort(self, execution_id: str, *, by: str | None = None) -> bool:
        """Ask the process running the execution to abort it; False when it already ended."""
        with self._tx() as conn:
            done = conn.execute(
                update(executions)
                .where(executions.c.id == execution_id, executions.c.ended_at.is_(None))
                .values(abort_requested=True, abort_by=by)
            ).rowcount
        self.wake(execution_id)
        return bool(done)

    # -- in-process wake-ups (other processes are seen by polling) ----------------------

    def generation(self, execution_id: str) -> int:
        with self._changes:
            return self._generations.get(execution_id, 0)

    def wait_change(self, execution_id: str, seen: int, timeout: float) -> int:
        """Wait until something of the execution changed in this process (an abort, a decision)
        after generation `seen`, or until timeout; returns the current generation."""
        with self._changes:
            self._changes.wait_for(
                lambda: self._generations.get(execution_id, 0) != seen, timeout=max(0.0, timeout)
            )
            return self._generations.get(execution_id, 0)

    def wake(self, execution_id: str) -> None:
        with self._changes:
            self._generations[execution_id] = self._generations.get(execution_id, 0) + 1
            self._changes.notify_all()

    # -- one transaction of an executor's progress -------------------------------------

    def write(self, execution_id: str, batch: Write) -> None:
        if not batch:
            return
        now = time.time()
        with self._tx() as conn:
            if batch.events:
                conn.execute(
                    insert(journal),
                    [
                        {
                            "execution_id": execution_id,
                            "kind": e["kind"],
                            "command_id": e.get("command_id"),
                            "step_key": e.get("step_key"),
                            "at": e.get("at", now),
                            "payload": _dumps(e.get("payload", {})),
                        }
                        for e in batch.events
                    ],
                )
            for row in batch.stages:
                _upsert(conn, stage_states, {"execution_id": execution_id, **row}, ("execution_id", "key"))
            for request in batch.requests:
                _open_request(conn, execution_id, request)
            for row in batch.steps:
                values = {"execution_id": execution_id, **row}
                if "outputs" in values:
                    values["outputs"] = _dumps(values["outputs"])
                _upsert(conn, step_states, values, ("execution_id", "key"))
            if batch.logs:
                conn.execute(
                    insert(log_lines), [{"execution_id": execution_id, **line} for line in batch.logs]
                )
            if batch.execution:
                conn.execute(
                    update(executions).where(executions.c.id == execution_id).values(**batch.execution)
                )

    def append_event(
        self,
        execution_id: str,
        kind: str,
        payload: Mapping[str, Any],
        *,
        command_id: str | None = None,
        step_key: str | None = None,
    ) -> None:
        self.write(
            execution_id,
            Write(
                events=[{"kind": kind, "command_id": command_id, "step_key": step_key, "payload": payload}]
            ),
        )

    def journal(self, execution_id: str, *, kinds: Sequence[str] | None = None) -> list[JournalRecord]:
        query = select(journal).where(journal.c.execution_id == execution_id).order_by(journal.c.id)
        if kinds is not None:
            query = query.where(journal.c.kind.in_(list(kinds)))
        with self._tx() as conn:
            return [
                JournalRecord(r.id, r.kind, r.command_id, r.step_key, r.at, json.loads(r.payload))
                for r in conn.execute(query)
            ]

    def latest_checkpoint(self, execution_id: str, step_key: str) -> dict[str, Any] | None:
        query = (
            select(journal.c.payload)
            .where(
                journal.c.execution_id == execution_id,
                journal.c.kind == "checkpoint",
                journal.c.step_key == step_key,
            )
            .order_by(journal.c.id.desc())
            .limit(1)
        )
        with self._tx() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else json.loads(found)["data"]

    # -- states and logs ---------------------------------------------------------------

    def stages(self, execution_id: str) -> list[StageRecord]:
        query = (
            select(stage_states)
            .where(stage_states.c.execution_id == execution_id)
            .order_by(stage_states.c.position)
        )
        with self._tx() as conn:
            return [
                StageRecord(
                    r.key,
                    r.position,
                    r.identifier,
                    r.name,
                    r.status,
                    r.started_at,
                    r.ended_at,
                    r.error,
                    bool(r.rolled_back),
                )
                for r in conn.execute(query)
            ]

    def steps(self, execution_id: str) -> list[StepRecord]:
        query = (
            select(step_states)
            .where(step_states.c.execution_id == execution_id)
            .order_by(step_states.c.position)
        )
        with self._tx() as conn:
            return [
                StepRecord(
                    r.key,
                    r.position,
                    r.stage_key,
                    r.identifier,
                    r.name,
                    r.type,
                    r.phase,
                    r.status,
                    r.attempt,
                    r.started_at,
                    r.ended_at,
                    _loads(r.outputs) or {},
                    r.error,
                    r.failure_type,
                )
                for r in conn.execute(query)
            ]

    def logs(self, execution_id: str, *, step_key: str | None = None, after: int = 0) -> list[LogRecord]:
        query = (
            select(log_lines)
            .where(log_lines.c.execution_id == execution_id, log_lines.c.id > after)
            .order_by(log_lines.c.id)
        )
        if step_key is not None:
            query = query.where(log_lines.c.step_key == step_key)
        with self._tx() as conn:
            return [
                LogRecord(r.id, r.step_key, r.at, r.section, r.level, r.message) for r in conn.execute(query)
            ]

    # -- approvals and manual interventions --------------------------------------------

    def open_request(
        self,
        execution_id: str,
        command_id: str,
        *,
        step_key: str,
        kind: str,
        message: str | None = None,
        approvers: Any = None,
        inputs: Any = None,
    ) -> ApprovalRecord:
        """Record a waiting approval (or intervention); an existing one (after a resume) is kept."""
        request = {"command_id": command_id, "step_key": step_key, "kind": kind, "message": message}
        self.write(execution_id, Write(requests=[{**request, "approvers": approvers, "inputs": inputs}]))
        found = self.request(execution_id, command_id)
        assert found is not None
        return found

    def request(self, execution_id: str, command_id: str) -> ApprovalRecord | None:
        with self._tx() as conn:
            row = (
                conn.execute(
                    select(approvals).where(
                        approvals.c.execution_id == execution_id, approvals.c.command_id == command_id
                    )
                )
                .mappings()
                .first()
            )
        return None if row is None else _approval(row)

    def requests(self, execution_id: str, *, waiting: bool = False) -> list[ApprovalRecord]:
        query = (
            select(approvals).where(approvals.c.execution_id == execution_id).order_by(approvals.c.created_at)
        )
        if waiting:
            query = query.where(approvals.c.status == "Waiting")
        with self._tx() as conn:
            return [_approval(row) for row in conn.execute(query).mappings()]

    def decide(
        self,
        execution_id: str,
        command_id: str,
        *,
        status: str,
        decision: str | None = None,
        comment: str | None = None,
        by: str | None = None,
        inputs: Any = None,
    ) -> bool:
        """Close a waiting request; False when it was already decided."""
        values: dict[str, Any] = {
            "status": status,
            "decision": decision,
            "comment": comment,
            "decided_by": by,
            "decided_at": time.time(),
        }
        if inputs is not None:
            values["inputs"] = _dumps(inputs)
        with self._tx() as conn:
            done = conn.execute(
                update(approvals)
                .where(
                    approvals.c.execution_id == execution_id,
                    approvals.c.command_id == command_id,
                    approvals.c.status == "Waiting",
                )
                .values(**values)
            ).rowcount
        self.wake(execution_id)
        return bool(done)

    def add_vote(
        self,
        execution_id: str,
        command_id: str,
        *,
        voter: str,
        decision: str,
        comment: str | None = None,
        inputs: Mapping[str, Any] | None = None,
    ) -> bool:
        """Record one person's Approve or Reject; False when that person has voted already."""
        row = {
            "execution_id": execution_id,
            "command_id": command_id,
            "voter": voter,
            "decision": decision,
            "comment": comment,
            "inputs": _dumps(dict(inputs or {})),
            "at": time.time(),
        }
        try:
            with self._tx() as conn:
                conn.execute(insert(approval_votes).values(**row))
        except IntegrityError:
            return False
        return True

    def votes(self, execution_id: str, command_id: str) -> list[VoteRecord]:
        """The votes on a request, oldest first."""
        query = (
            select(approval_votes)
            .where(approval_votes.c.execution_id == execution_id, approval_votes.c.command_id == command_id)
            .order_by(approval_votes.c.at)
        )
        with self._tx() as conn:
            return [
                VoteRecord(r.voter, r.decision, r.comment, _loads(r.inputs) or {}, r.at)
                for r in conn.execute(query)
            ]

    # -- locks -------------------------------------------------------------------------

    def try_lock(
        self, key: str, *, execution_id: str, owner: str, description: Mapping[str, Any], lease: float
    ) -> LockRecord | None:
        """Take the lock for `execution_id`; None when taken (or already ours), else who holds it.
        A lock whose lease ran out (its process died) is taken over."""
        now = time.time()
        with self._tx() as conn:
            row = conn.execute(select(locks).where(locks.c.key == key)).mappings().first()
            if row is not None and row["execution_id"] != execution_id and row["expires_at"] > now:
                return _lock(row)
            values = {
                "execution_id": execution_id,
                "owner": owner,
                "description": _dumps(description),
                "acquired_at": now
                if row is None or row["execution_id"] != execution_id
                else row["acquired_at"],
                "expires_at": now + lease,
            }
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(locks).values(key=key, **values))
                except IntegrityError:  # another process inserted it first (PostgreSQL)
                    holder = conn.execute(select(locks).where(locks.c.key == key)).mappings().first()
                    return _lock(holder) if holder is not None else None
            else:
                conn.execute(
                    update(locks)
                    .where(locks.c.key == key, locks.c.execution_id == row["execution_id"])
                    .values(**values)
                )
        return None

    def release_lock(self, key: str, *, execution_id: str) -> None:
        from sqlalchemy import delete

        with self._tx() as conn:
            conn.execute(delete(locks).where(and_(locks.c.key == key, locks.c.execution_id == execution_id)))

    def release_locks(self, execution_id: str) -> None:
        from sqlalchemy import delete

        with self._tx() as conn:
            conn.execute(delete(locks).where(locks.c.execution_id == execution_id))

    def locks(self) -> list[LockRecord]:
        with self._tx() as conn:
            return [_lock(row) for row in conn.execute(select(locks).order_by(locks.c.key)).mappings()]


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy's BEGIN below, not the driver's
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # take the write lock up front: a deferred transaction that later writes can fail
            # with "database is locked" instead of waiting its turn
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


_UPSERTS: dict[tuple[str, str], Any] = {}
_SET_ONCE = ("started_at", "position")  # kept by later updates of the same row


def _open_request(conn: Connection, execution_id: str, request: Mapping[str, Any]) -> None:
    """Insert a waiting request (fields as `Store.open_request` takes them) unless it exists."""
    exists = conn.execute(
        select(approvals.c.command_id).where(
            approvals.c.execution_id == execution_id, approvals.c.command_id == request["command_id"]
        )
    ).first()
    if exists is None:
        conn.execute(
            insert(approvals).values(
                execution_id=execution_id,
                status="Waiting",
                created_at=time.time(),
                **{
                    **request,
                    "approvers": _dumps(request.get("approvers")),
                    "inputs": _dumps(request.get("inputs")),
                },
            )
        )


def _upsert(conn: Connection, table: Any, values: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Insert or update one row; the statement is built once per table and dialect (building it
    costs more than running it)."""
    dialect = conn.dialect.name
    statement = _UPSERTS.get((dialect, table.name))
    if statement is None:
        # only the dialect in use: PostgreSQL's package costs a SQLite run several MiB
        base: Any  # only the dialect in use is imported: PostgreSQL's costs a SQLite run MiBs
        if dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            base = postgresql.insert(table)
        else:
            from sqlalchemy.dialects import sqlite

            base = sqlite.insert(table)
        changes = {
            column.name: func.coalesce(column, base.excluded[column.name])
            if column.name in _SET_ONCE
            else base.excluded[column.name]
            for column in table.columns
            if column.name not in keys
        }
        statement = base.on_conflict_do_update(index_elements=list(keys), set_=changes)
        _UPSERTS[(dialect, table.name)] = statement
    row = {column.name: values.get(column.name) for column in table.columns}
    for column in table.columns:  # NOT NULL columns with defaults
        if row[column.name] is None and column.default is not None and not column.nullable:
            row[column.name] = column.default.arg
    conn.execute(statement, row)


def _execution(row: Any) -> ExecutionRecord:
    return ExecutionRecord(
        id=row["id"],
        project=row["project"],
        project_root=row["project_root"],
        pipeline_id=row["pipeline_id"],
        pipeline_name=row["pipeline_name"],
        sequence_id=row["sequence_id"],
        status=row["status"],
        snapshot=json.loads(row["snapshot"]),
        inputs=json.loads(row["inputs"]),
        error=row["error"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        owner=row["owner"],
        heartbeat_at=row["heartbeat_at"],
        abort_requested=bool(row["abort_requested"]),
        abort_by=row["abort_by"],
    )


def _approval(row: Any) -> ApprovalRecord:
    return ApprovalRecord(
        execution_id=row["execution_id"],
        command_id=row["command_id"],
        step_key=row["step_key"],
        kind=row["kind"],
        status=row["status"],
        message=row["message"],
        approvers=_loads(row["approvers"]),
        inputs=_loads(row["inputs"]),
        decision=row["decision"],
        comment=row["comment"],
        decided_by=row["decided_by"],
        created_at=row["created_at"],
        decided_at=row["decided_at"],
    )


def _lock(row: Any) -> LockRecord:
    return LockRecord(
        key=row["key"],
        execution_id=row["execution_id"],
        owner=row["owner"],
        description=json.loads(row["description"]),
        acquired_at=row["acquired_at"],
        expires_at=row["expires_at"],
    )
