"""Step logs: sections as in the seed documents, timestamped lines, a live sink, secret masking."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass

# The sections a deploy step's log is split into, in the reference's words.
FETCH_MANIFESTS = "Fetch Manifests"
PREPARE_ROLLBACK_DATA = "Prepare Rollback Data"
DEPLOY = "Deploy"
WAIT_FOR_STEADY_STATE = "Wait for Steady State"
ROLLBACK = "Rollback"


@dataclass(frozen=True)
class LogLine:
    time: dt.datetime
    section: str
    level: str  # INFO, WARN, ERROR
    message: str


Sink = Callable[[LogLine], None]
Masker = Callable[[str], str]


class StepLog:
    """Collects a step's log lines and passes each to `sink` as it is written (live logs)."""

    def __init__(self, *, sink: Sink | None = None, mask: Masker | None = None) -> None:
        self.lines: list[LogLine] = []
        self._sink = sink
        self._mask = mask
        self._section = DEPLOY
        self._lock = threading.Lock()

    def section(self, name: str) -> None:
        self._section = name

    def info(self, message: str) -> None:
        self._write("INFO", message)

    def warn(self, message: str) -> None:
        self._write("WARN", message)

    def error(self, message: str) -> None:
        self._write("ERROR", message)

    def text(self) -> str:
        return "\n".join(line.message for line in self.lines)

    def _write(self, level: str, message: str) -> None:
        if self._mask is not None:
            message = self._mask(message)
        line = LogLine(dt.datetime.now(dt.UTC), self._section, level, message)
        with self._lock:
            self.lines.append(line)
        if self._sink is not None:
            self._sink(line)
