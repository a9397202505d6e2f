"""Artifact triggers in server mode: watch each enabled `trigger:`'s repository and run its
pipeline once for every new tag that matches its pattern.

    watcher = TriggerWatcher(server)      # the app starts and stops it with the server
    watcher.poll("demo", "on_web")        # -> PollOutcome: the tags new in this poll
    watcher.history("demo", "on_web")     # every tag seen, newest first

Every tag a trigger has seen is a row of server_trigger_tags, unique per (project, trigger,
tag): a tag runs only for whoever inserts its row, so two servers on one database, a poll
from the API racing the watcher thread, or a restart never run a tag twice. The first
successful poll of a trigger records the tags already there without running them.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from corral.config.entities.trigger import Trigger
from corral.config.project import Project

from .tables import trigger_polls, trigger_tags

if TYPE_CHECKING:
    from corral.artifacts import TagInfo

    from .app import Server

EXISTING = "Existing"  # there before the trigger's first poll: never run
STARTING = "Starting"  # claimed by a poll; its execution is being made
STARTED = "Started"
FAILED = "Failed"  # the execution could not be made (bad inputs, pipeline gone, ...)


@dataclass
class PollOutcome:
    trigger_id: str
    first: bool = False
    new_tags: list[str] = field(default_factory=list)
    executions: list[str] = field(default_factory=list)
    error: str | None = None


class TriggerWatcher:
    """A daemon thread that looks every `tick` seconds for triggers whose poll is due."""

    def __init__(self, server: Server, *, tick: float = 5.0, client_options: dict[str, Any] | None = None):
        self.server = server
        self.tick = tick
        self.client_options = client_options or {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()

    # -- the thread ------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="corral-triggers", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_due()
            except Exception:  # the watcher outlives any one bad poll
                traceback.print_exc()
            self._stop.wait(self.tick)

    def poll_due(self) -> list[PollOutcome]:
        """Poll every enabled trigger whose interval has passed since its last poll."""
        done = []
        for name in self.server.projects.names():
            if self._stop.is_set():
                break
            try:
                project = self.server.projects.load(name)
            except Exception:  # a project that does not load has no triggers to run
                continue
            polls = self._polls(name, done=False)  # a failed poll also waits its interval
            for trigger in project.triggers.values():
                last = polls.get(trigger.identifier)
                if trigger.enabled and (last is None or time.time() - last >= trigger.interval_seconds):
                    done.append(self.poll_trigger(project, trigger))
        return done

    # -- one poll --------------------------------------------------------------------------

    def poll(self, project_name: str, trigger_id: str) -> PollOutcome:
        """Poll one trigger now (enabled or not). KeyError when the project has no such trigger."""
        project = self.server.projects.load(project_name)
        trigger = project.triggers.get(trigger_id)
        if trigger is None:
            raise KeyError(trigger_id)
        return self.poll_trigger(project, trigger)

    def poll_trigger(self, project: Project, trigger: Trigger) -> PollOutcome:
        with self._lock(project.name, trigger.identifier):
            return self._poll(project, trigger)

    def _poll(self, project: Project, trigger: Trigger) -> PollOutcome:
        outcome = PollOutcome(trigger.identifier)
        now = time.time()
        try:
            tags = [info for info in self._list(project, trigger) if trigger.matches(info.tag)]
        except Exception as error:
            outcome.error = str(error) or type(error).__name__
            self._record_poll(project.name, trigger.identifier, now, outcome.error, first=False)
            return outcome
        outcome.first = trigger.identifier not in self._polls(project.name)
        seen = self._seen(project.name, trigger.identifier)
        fresh = [info for info in tags if info.tag not in seen]
        # oldest first, so a burst of tags runs in the order they were made
        for info in reversed(fresh):
            if not self._claim(
                project.name, trigger.identifier, info, EXISTING if outcome.first else STARTING
            ):
                continue  # another poll has it
            outcome.new_tags.append(info.tag)
            if not outcome.first:
                execution_id = self._run(project, trigger, info.tag)
                if execution_id is not None:
                    outcome.executions.append(execution_id)
        self._record_poll(project.name, trigger.identifier, now, None, first=outcome.first)
        return outcome

    def _list(self, project: Project, trigger: Trigger) -> list[TagInfo]:
        from corral.artifacts.images import tag_pattern
        from corral.artifacts.resolver import LOOKUP_SECONDS, list_tags
        from corral.artifacts.sources import SourceSpec, open_repository
        from corral.config.secrets import SecretResolver

        pattern = tag_pattern(trigger.tag_pattern, "tagPattern") if trigger.tag_pattern else None
        if trigger.service_ref is not None:
            _, _, found = list_tags(
                project, trigger.service_ref, trigger.artifact_ref, client_options=self.client_options
            )
            return found
        assert trigger.source is not None
        artifact = trigger.source.spec
        spec = SourceSpec.of(trigger.identifier, artifact.type, artifact.spec.model_dump(by_alias=True))
        options = {"timeout": LOOKUP_SECONDS, **self.client_options}
        repository = open_repository(project, spec, SecretResolver(project).value, **options)
        try:
            if spec.type == "Ecr":
                from corral.aws import call_scope

                with call_scope(deadline=time.monotonic() + LOOKUP_SECONDS):
                    return repository.newest(pattern=pattern)
            return repository.newest(pattern=pattern)
        finally:
            repository.close()

    def _claim(self, project: str, trigger_id: str, info: TagInfo, status: str) -> bool:
        try:
            with self.server.store.engine.begin() as conn:
                conn.execute(
                    insert(trigger_tags).values(
                        project=project,
                        trigger_id=trigger_id,
                        tag=info.tag,
                        digest=info.digest,
                        first_seen=time.time(),
                        status=status,
                    )
                )
        except IntegrityError:
            return False
        return True

    def _run(self, project: Project, trigger: Trigger, tag: str) -> str | None:
        from corral.engine import create_execution

        actor = f"trigger:{trigger.identifier}"
        inputs = trigger.rendered_inputs(tag)
        try:
            record = create_execution(
                project,
                trigger.pipeline_identifier,
                store=self.server.store,
                project_inputs=inputs,  # the trigger's, from the project: expressions work
                triggered_by=actor,
            )
        except Exception as error:
            self._set_tag(project.name, trigger.identifier, tag, status=FAILED, error=str(error))
            self.server.audit.record(
                actor, "trigger.failed", trigger.identifier, project=project.name, tag=tag, error=str(error)
            )
            return None
        self._set_tag(project.name, trigger.identifier, tag, status=STARTED, execution_id=record.id)
        self.server.runner.start(record.id)
        self.server.audit.record(
            actor,
            "execution.run",
            record.id,
            project=project.name,
            pipeline=trigger.pipeline_identifier,
            inputs=inputs,
            trigger=trigger.identifier,
            tag=tag,
        )
        return str(record.id)

    # -- the tables ------------------------------------------------------------------------

    def _set_tag(self, project: str, trigger_id: str, tag: str, **values: Any) -> None:
        with self.server.store.engine.begin() as conn:
            conn.execute(
                update(trigger_tags)
                .where(trigger_tags.c.project == project)
                .where(trigger_tags.c.trigger_id == trigger_id)
                .where(trigger_tags.c.tag == tag)
                .values(**values)
            )

    def _seen(self, project: str, trigger_id: str) -> set[str]:
        query = select(trigger_tags.c.tag).where(
            trigger_tags.c.project == project, trigger_tags.c.trigger_id == trigger_id
        )
        with self.server.store.engine.begin() as conn:
            return {row.tag for row in conn.execute(query)}

    def _polls(self, project: str, *, done: bool = True) -> dict[str, float]:
        """trigger id -> last poll time; with done, only the triggers whose first poll succeeded."""
        query = select(trigger_polls).where(trigger_polls.c.project == project)
        with self.server.store.engine.begin() as conn:
            rows = conn.execute(query).all()
        return {row.trigger_id: row.last_poll_at for row in rows if row.first_poll_at or not done}

    def _record_poll(
        self, project: str, trigger_id: str, at: float, error: str | None, *, first: bool
    ) -> None:
        key = (trigger_polls.c.project == project, trigger_polls.c.trigger_id == trigger_id)
        with self.server.store.engine.begin() as conn:
            row = conn.execute(select(trigger_polls).where(*key)).first()
            if row is not None:
                conn.execute(update(trigger_polls).where(*key).values(last_poll_at=at, last_error=error))
                if first and not row.first_poll_at:
                    conn.execute(update(trigger_polls).where(*key).values(first_poll_at=at))
                return
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(trigger_polls).values(
                            project=project,
                            trigger_id=trigger_id,
                            first_poll_at=at if error is None else 0.0,
                            last_poll_at=at,
                            last_error=error,
                        )
                    )
            except IntegrityError:  # another server recorded its first poll at the same moment
                pass

    def status(self, project: str, trigger_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """trigger id -> last_poll_at, last_error, tags seen, executions started."""
        wanted = set(trigger_ids)
        with self.server.store.engine.begin() as conn:
            polls = conn.execute(select(trigger_polls).where(trigger_polls.c.project == project)).all()
            tags = conn.execute(
                select(trigger_tags.c.trigger_id, trigger_tags.c.status).where(
                    trigger_tags.c.project == project
                )
            ).all()
        out: dict[str, dict[str, Any]] = {
            t: {"last_poll_at": None, "last_error": None, "tags_seen": 0, "executions": 0} for t in wanted
        }
        for row in polls:
            if row.trigger_id in out:
                out[row.trigger_id].update(last_poll_at=row.last_poll_at, last_error=row.last_error)
        for row in tags:
            if row.trigger_id in out:
                out[row.trigger_id]["tags_seen"] += 1
                out[row.trigger_id]["executions"] += row.status == STARTED
        return out

    def history(self, project: str, trigger_id: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """The tags the trigger has seen, newest first."""
        query = (
            select(trigger_tags)
            .where(trigger_tags.c.project == project, trigger_tags.c.trigger_id == trigger_id)
            .order_by(trigger_tags.c.id.desc())
            .limit(limit)
        )
        with self.server.store.engine.begin() as conn:
            rows = conn.execute(query).all()
        return [
            {
                "tag": r.tag,
                "digest": r.digest,
                "first_seen": r.first_seen,
                "status": r.status,
                "execution_id": r.execution_id,
                "error": r.error,
            }
            for r in rows
        ]

    def _lock(self, project: str, trigger_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault((project, trigger_id), threading.Lock())
