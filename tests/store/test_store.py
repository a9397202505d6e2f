"""The store on SQLite and PostgreSQL: migrations, sequence ids, journal, states, approvals, locks."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from corral.store import Store, Write


def new(store: Store, pipeline: str = "p") -> str:
    return store.create_execution(
        project="proj",
        project_root="/x",
        pipeline_id=pipeline,
        pipeline_name=pipeline,
        snapshot={"a": 1},
        inputs={"i": 2},
    ).id


def _head() -> str:
    """The newest migration of the store's scripts."""
    from alembic.script import ScriptDirectory

    from corral.store.store import MIGRATIONS

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def test_opening_migrates_once(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()
    store.migrate()  # again: nothing to do
    record = store.execution(new(store))
    assert record is not None and (record.snapshot, record.inputs, record.status) == (
        {"a": 1},
        {"i": 2},
        "Queued",
    )


def test_a_store_at_head_opens_without_alembic_and_an_older_one_is_migrated(tmp_path: Path) -> None:
    """The constant the fast path compares with is Alembic's own head; a database one revision
    behind (as an older Corral left it) is still brought up to date when opened."""
    from corral.store.store import HEAD

    assert _head() == HEAD
    url = f"sqlite:///{tmp_path / 'old.db'}"
    older = Store.open(url)
    with older.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE approval_votes")
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    older.close()
    reopened = Store.open(url)
    assert reopened.schema_revision() == HEAD
    with reopened.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM approval_votes")).scalar() == 0
    reopened.close()


def test_a_new_sqlite_store_has_the_schema_the_migrations_make(tmp_path: Path) -> None:
    """A new SQLite file gets its tables without Alembic; they are exactly the ones running the
    migrations makes (the DDL SQLite keeps), at the same revision."""
    from alembic import command
    from alembic.config import Config

    from corral.store.store import MIGRATIONS

    made = Store.open(f"sqlite:///{tmp_path / 'made.db'}")
    migrated = Store.open(f"sqlite:///{tmp_path / 'migrated.db'}", migrate=False)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with migrated.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")

    def schema(store: Store) -> dict[str, str]:
        with store.engine.connect() as conn:
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"))
            return {name: sql for name, sql in rows}

    assert len(schema(migrated)) > 8
    assert schema(made) == schema(migrated)
    assert made.schema_revision() == migrated.schema_revision() == _head()
    made.close()
    migrated.close()


def test_many_openers_of_one_new_sqlite_file_all_get_the_same_store(tmp_path: Path) -> None:
    """Several `corral run`s started at once on a project without a store yet: each opens it (its
    own engine, as a process has), none fails, and the executions they write are all there."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    ids: list[str] = []
    errors: list[BaseException] = []

    def open_and_write() -> None:
        try:
            opened = Store.open(url)
            ids.append(new(opened))
            opened.close()
        except BaseException as error:  # reported below, with the others' results
            errors.append(error)

    threads = [threading.Thread(target=open_and_write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = Store.open(url)
    assert store.schema_revision() == _head()
    assert sorted(r.sequence_id for r in (store.execution(i) for i in ids) if r is not None) == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]
    store.close()


def test_sequence_ids_count_per_pipeline_even_from_many_threads(store: Store) -> None:
    ids: list[str] = []
    threads = [threading.Thread(target=lambda: ids.append(new(store))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other = store.execution(new(store, "other"))
    assert other is not None and other.sequence_id == 1
    sequences = sorted(store.execution(i).sequence_id for i in ids)  # type: ignore[union-attr]
    assert sequences == list(range(1, 9))
    assert [e.pipeline_id for e in store.executions(pipeline_id="other")] == ["other"]


def test_journal_states_and_logs(store: Store) -> None:
    execution = new(store)
    store.write(
        execution,
        Write(
            events=[{"kind": "StepFinished", "command_id": "s/a#1", "payload": {"status": "Success"}}],
            stages=[
                {
                    "key": "s",
                    "position": 0,
                    "identifier": "s",
                    "name": "S",
                    "status": "Running",
                    "started_at": 10.0,
                }
            ],
            steps=[
                {
                    "key": "s/a",
                    "position": 1,
                    "stage_key": "s",
                    "identifier": "a",
                    "name": "A",
                    "type": "Probe",
                    "phase": "execution",
                    "status": "Running",
                    "attempt": 1,
                    "started_at": 11.0,
                    "outputs": {},
                }
            ],
            execution={"status": "Running", "started_at": 10.0},
            logs=[{"step_key": "s/a", "at": 12.0, "section": "Execute", "level": "INFO", "message": "hello"}],
        ),
    )
    store.append_event(execution, "checkpoint", {"data": {"n": 1}}, command_id="s/a#1", step_key="s/a")
    store.append_event(execution, "checkpoint", {"data": {"n": 2}}, command_id="s/a#1", step_key="s/a")
    store.write(
        execution,
        Write(
            steps=[
                {
                    "key": "s/a",
                    "position": 9,
                    "stage_key": "s",
                    "identifier": "a",
                    "name": "A",
                    "type": "Probe",
                    "phase": "execution",
                    "status": "Success",
                    "attempt": 2,
                    "started_at": 99.0,
                    "ended_at": 20.0,
                    "outputs": {"x": [1, "two"]},
                }
            ],
            logs=[{"step_key": "s/a", "at": 13.0, "section": "Execute", "level": "INFO", "message": "bye"}],
        ),
    )
    (step,) = store.steps(execution)
    assert (step.status, step.attempt, step.started_at, step.ended_at, step.position) == (
        "Success",
        2,
        11.0,
        20.0,
        1,
    )
    assert step.outputs == {"x": [1, "two"]}
    assert [e.kind for e in store.journal(execution)] == ["StepFinished", "checkpoint", "checkpoint"]
    assert [e.kind for e in store.journal(execution, kinds=["StepFinished"])] == ["StepFinished"]
    assert store.latest_checkpoint(execution, "s/a") == {"n": 2}
    assert store.latest_checkpoint(execution, "s/b") is None
    lines = store.logs(execution)
    assert [line.message for line in lines] == ["hello", "bye"]
    assert [line.message for line in store.logs(execution, after=lines[0].id)] == ["bye"]
    assert store.stages(execution)[0].status == "Running"


def test_approvals_are_decided_once(store: Store) -> None:
    execution = new(store)
    first = store.open_request(
        execution,
        "s/gate#1",
        step_key="s/gate",
        kind="approval",
        message="ok?",
        approvers={"userGroups": ["ops"]},
    )
    again = store.open_request(execution, "s/gate#1", step_key="s/gate", kind="approval", message="changed")
    assert again.created_at == first.created_at and again.message == "ok?"
    seen = store.generation(execution)
    assert store.decide(execution, "s/gate#1", status="Approved", comment="go", by="alice")
    assert store.wait_change(execution, seen, 0) != seen
    assert not store.decide(execution, "s/gate#1", status="Rejected")
    decided = store.request(execution, "s/gate#1")
    assert decided is not None and (decided.status, decided.comment, decided.decided_by) == (
        "Approved",
        "go",
        "alice",
    )
    assert store.requests(execution, waiting=True) == []


def test_locks_lease_and_takeover(store: Store) -> None:
    a, b = new(store), new(store)
    assert (
        store.try_lock("k", execution_id=a, owner="host:1:a", description={"service": "web"}, lease=60)
        is None
    )
    holder = store.try_lock("k", execution_id=b, owner="host:2:b", description={}, lease=60)
    assert holder is not None and holder.execution_id == a and holder.description == {"service": "web"}
    # the same execution (resumed by a new process) takes its own lock back
    assert (
        store.try_lock("k", execution_id=a, owner="host:3:a2", description={"service": "web"}, lease=60)
        is None
    )
    assert store.locks()[0].owner == "host:3:a2"
    store.release_lock("k", execution_id=b)  # not b's: nothing happens
    assert len(store.locks()) == 1
    assert store.try_lock("short", execution_id=a, owner="host:3:a2", description={}, lease=0.05) is None
    time.sleep(0.1)
    assert store.try_lock("short", execution_id=b, owner="host:2:b", description={}, lease=60) is None
    store.release_locks(a)
    assert [lock.key for lock in store.locks()] == ["short"]


def test_heartbeat_claim_and_abort_requests(store: Store) -> None:
    execution = new(store)
    assert store.claim(execution, "host:1:a", lease=60) is None
    assert store.claim(execution, "host:2:b", lease=60) == "host:1:a"
    assert store.claim(execution, "host:2:b", lease=60, force=True) is None
    assert store.try_lock("k", execution_id=execution, owner="host:2:b", description={}, lease=1) is None
    before = store.locks()[0].expires_at
    assert store.heartbeat(execution, "host:2:b", lease=60) == (False, None)
    assert store.locks()[0].expires_at > before
    assert store.request_abort(execution, by="carol")
    assert store.heartbeat(execution, "host:2:b", lease=60) == (True, "carol")
    store.update_execution(execution, ended_at=time.time(), status="Aborted")
    assert not store.request_abort(execution)
