"""What a person sees while an execution runs: stages, steps, statuses, elapsed time, log tails.

    view = ExecutionView.for_output(json_output=False)   # live (a terminal), plain lines or silent
    options = ExecutorOptions(on_update=view.on_update, on_log=view.on_log)
    with view: executor.run(execution_id)

`Board` keeps the state from the executor's callbacks (they come from several threads). In a
terminal, `LiveView` redraws it with rich a few times a second; elsewhere `PlainView` prints one
line per real status change and per log line; `QuietView` prints nothing (for --json).

A state is shown once it is real and differs from the last one shown for that stage or step: a
stage reports Waiting before it asks for its service's lock, but it waits only when the lock's
holder is named (a `Lock` log line), so an uncontested lock shows no Waiting / Running pair. A
failed step's error is shown once, under it: ECS's reason, the stopped tasks, the last ECS events
(see step_failure); the stage and the pipeline repeat only its first line.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import click

from corral.cli.step_failure import EVENTS_SHOWN, failure_lines, headline, logged_event

Echo = Callable[[str], None]
TAIL = 6  # log lines shown under the running step

_STYLES = {
    "Success": "green",
    "Failed": "red",
    "Aborted": "red",
    "Expired": "red",
    "ApprovalRejected": "red",
    "Running": "cyan",
    "ApprovalWaiting": "yellow",
    "InterventionWaiting": "yellow",
    "Waiting": "yellow",
    "Retrying": "yellow",
    "Skipped": "dim",
    "IgnoreFailed": "yellow",
}


@dataclass
class Row:
    key: str
    position: int
    name: str
    kind: str  # a step type, or "Stage"
    status: str
    started: float
    ended: float | None = None
    error: str | None = None
    phase: str = "execution"
    stage_key: str = ""
    pending: str | None = None  # a state reported but not yet real (a stage's lock wait)

    def elapsed(self, now: float) -> float:
        return (self.ended or now) - self.started


@dataclass
class Board:
    """The execution's state as the callbacks report it."""

    stages: dict[str, Row] = field(default_factory=dict)
    steps: dict[str, Row] = field(default_factory=dict)
    status: str = "Queued"
    error: str | None = None
    started: float = field(default_factory=time.time)
    tails: dict[str, deque[str]] = field(default_factory=dict)
    events: dict[str, deque[str]] = field(default_factory=dict)  # ECS events each step logged
    lock: threading.Lock = field(default_factory=threading.Lock)

    def apply(self, update: Any) -> Row | None:
        """Record an update; the row whose status changed (None for the pipeline or no change)."""
        kind = type(update).__name__
        now = time.time()
        with self.lock:
            if kind == "PipelineUpdate":
                self.status, self.error = update.status, update.error
                return None
            table = self.stages if kind == "StageUpdate" else self.steps
            row = table.get(update.key)
            if row is not None and kind == "StageUpdate" and update.status == "Waiting":
                row.pending = update.status  # real once the lock's holder is named (see log)
                return None
            if row is not None:
                row.pending = None
            if row is not None and row.status == update.status:
                return None
            if row is None or (row.status in _ENDED and update.status not in _ENDED):
                row = Row(
                    key=update.key,
                    position=update.position,
                    name=update.name,
                    kind="Stage" if kind == "StageUpdate" else update.type,
                    status=update.status,
                    started=now,
                    phase=getattr(update, "phase", "execution"),
                    stage_key=getattr(update, "stage_key", update.key),
                )
                table[update.key] = row
            row.status, row.error = update.status, update.error
            row.ended = now if update.status in _ENDED else None
            return row

    def log(self, step_key: str, message: str, section: str = "") -> Row | None:
        """Record a log line; the stage whose pending wait it makes real, if any."""
        with self.lock:
            self.tails.setdefault(step_key, deque(maxlen=TAIL)).append(message)
            event = logged_event(message)
            if event is not None:
                self.events.setdefault(step_key, deque(maxlen=EVENTS_SHOWN)).append(event)
            stage = self.stages.get(step_key)
            if stage is None or stage.pending is None or section != "Lock":
                return None
            stage.status, stage.pending = stage.pending, None
            return stage

    def step_events(self, step_key: str) -> list[str]:
        with self.lock:
            return list(self.events.get(step_key, ()))


_ENDED = frozenset({"Success", "Failed", "Aborted", "Expired", "Skipped", "IgnoreFailed", "ApprovalRejected"})


class ExecutionView:
    """Base: collects state; subclasses show it."""

    def __init__(self) -> None:
        self.board = Board()
        self.execution_id = ""

    @staticmethod
    def for_output(*, json_output: bool = False, echo: Echo | None = None) -> ExecutionView:
        if json_output:
            return QuietView()
        if echo is None and sys.stdout.isatty():
            return LiveView()
        return PlainView(echo or click.echo)

    def on_update(self, execution_id: str, update: Any) -> None:
        self.execution_id = execution_id
        self.board.apply(update)

    def on_log(self, execution_id: str, step_key: str, line: Any) -> None:
        self.board.log(step_key, str(line.message), line.section)

    def say(self, text: str) -> None:
        """A line of the command's own (the demo's narration)."""

    def __enter__(self) -> ExecutionView:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class QuietView(ExecutionView):
    pass


class PlainView(ExecutionView):
    """One line per real status change and per log line: for logs, CI and pipes."""

    def __init__(self, echo: Echo) -> None:
        super().__init__()
        self.echo = echo
        self._lock = threading.Lock()
        self._explained: list[str] = []  # first lines of the step errors shown in full

    def on_update(self, execution_id: str, update: Any) -> None:
        self.execution_id = execution_id
        row = self.board.apply(update)
        kind = type(update).__name__
        if kind == "PipelineUpdate":
            lines = [f"pipeline {update.status}" + self._error(update.error)]
        elif row is None:
            return
        else:
            lines = [self._status_line(row)]
            if (
                row.kind not in ("Stage", "StepGroup")
                and row.error
                and row.status not in ("Success", "Skipped")
            ):
                self._explained.append(headline(row.error))
                more = failure_lines(row.error, self.board.step_events(row.key))
                lines.extend(f"    {line}" for line in more)
        with self._lock:
            for line in lines:
                self.echo(line)

    def _status_line(self, row: Row) -> str:
        what = "stage" if row.kind == "Stage" else f"step {row.kind}"
        line = f"{what} {row.key}: {row.status}"
        if row.ended is not None and row.status != "Skipped":
            line += f" ({row.elapsed(time.time()):.1f}s)"
        if row.error and row.status != "Success":
            if row.kind in ("Stage", "StepGroup"):
                line += self._error(row.error)
            else:
                line += f": {headline(row.error)}"
        return line

    def _error(self, error: str | None) -> str:
        """`: error`, only its first line when a step's error shown above is in it."""
        if not error:
            return ""
        first = headline(error)
        if any(shown and shown in first for shown in self._explained):
            return f": {first}"
        return ": " + error.replace("\n", "\n    ")

    def on_log(self, execution_id: str, step_key: str, line: Any) -> None:
        stage = self.board.log(step_key, str(line.message), line.section)
        with self._lock:
            if stage is not None:
                self.echo(self._status_line(stage))
            self.echo(f"  [{step_key}] {line.message}")

    def say(self, text: str) -> None:
        with self._lock:
            self.echo(text)


class LiveView(ExecutionView):
    """A rich Live table redrawn four times a second while the execution runs."""

    def __init__(self) -> None:
        from rich.console import Console

        super().__init__()
        self.console = Console()
        self._live: Any = None

    def __enter__(self) -> ExecutionView:
        from rich.live import Live

        self.board = Board()
        self._live = Live(self, console=self.console, refresh_per_second=4, transient=False)
        self._live.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.refresh()
            self._live.__exit__(kind, error, tb)
            self._live = None

    def say(self, text: str) -> None:
        self.console.print(text)

    def __rich__(self) -> Any:
        return render_board(self.board, time.time())


def render_board(board: Board, now: float) -> Any:
    """The board as a rich renderable: one row per stage, its steps indented, the running
    step's log tail below the table."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("stage / step")
    table.add_column("type", style="dim")
    table.add_column("status")
    table.add_column("elapsed", justify="right")
    with board.lock:
        stages = sorted(board.stages.values(), key=lambda r: r.position)
        steps = sorted(board.steps.values(), key=lambda r: r.position)
        tails = {key: list(lines) for key, lines in board.tails.items()}
        events = {key: list(lines) for key, lines in board.events.items()}
        status, error = board.status, board.error
    running: Row | None = None
    for stage in stages:
        table.add_row(Text(stage.name, style="bold"), "", _status(stage.status), f"{stage.elapsed(now):.0f}s")
        for step in (s for s in steps if s.stage_key == stage.key):
            label = ("  ↺ " if step.phase == "rollback" else "  ") + step.name
            table.add_row(label, step.kind, _status(step.status), f"{step.elapsed(now):.0f}s")
            if step.ended is None and step.kind != "StepGroup":
                running = step
    parts: list[Any] = [Text.assemble(("pipeline ", "bold"), _status(status)), table]
    if running is not None and tails.get(running.key):
        parts.append(Text(f"{running.name}:", style="bold dim"))
        parts.extend(Text("  " + line, style="dim") for line in tails[running.key])
    explained = []
    for step in steps:  # a failed step's reason and ECS events under the table, once
        if step.kind == "StepGroup" or not step.error or step.status in ("Success", "Skipped"):
            continue
        explained.append(headline(step.error))
        parts.append(Text(f"{step.name} ({step.key}): {headline(step.error)}", style="red"))
        parts.extend(Text("  " + line) for line in failure_lines(step.error, events.get(step.key, [])))
    if error and status in _ENDED and not any(first and first in error for first in explained):
        parts.append(Text(error, style="red"))
    return Group(*parts)


def _status(status: str) -> Any:
    from rich.text import Text

    return Text(status, style=_STYLES.get(status, ""))
