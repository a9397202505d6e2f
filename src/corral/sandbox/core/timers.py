"""Timers on sandbox time, fired by one background thread under the world lock.

Nothing in the sandbox polls: models schedule the moment of their next change (a task
finishing its start, a health check turning, a drain ending) and the thread sleeps until
the earliest one.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock

log = logging.getLogger(__name__)


@dataclass(order=True)
class Timer:
    when: float
    seq: int
    fn: Callable[..., Any] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())
    cancelled: bool = field(compare=False, default=False)

    def cancel(self) -> None:
        self.cancelled = True


class Timers:
    def __init__(self, clock: Clock, lock: threading.RLock) -> None:
        self.clock = clock
        self.lock = lock
        self._heap: list[Timer] = []
        self._seq = itertools.count()
        self._wake = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._firing = threading.local()

    def call_at(self, when: float, fn: Callable[..., Any], *args: Any) -> Timer:
        timer = Timer(when, next(self._seq), fn, args)
        with self._wake:
            heapq.heappush(self._heap, timer)
            self._wake.notify()
        return timer

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> Timer:
        # from a timer that fired late, count from the moment it was due: a chain of timers (a
        # task starting, then turning healthy, then crashing) keeps its spacing on sandbox time
        # and its order against other timers, however late a loaded machine woke the thread
        return self.call_at(self.due_time() + max(0.0, delay), fn, *args)

    def due_time(self) -> float:
        """The moment the timer now firing on this thread was due, else the clock's now.

        A loaded machine can fire a timer late; a model stamps what happened (a container
        exiting) at the moment it was scheduled for, as ECS would, not when the thread woke.
        """
        due = getattr(self._firing, "when", None)
        return self.clock.now() if due is None else due

    def pending(self) -> int:
        return sum(1 for t in self._heap if not t.cancelled)

    def poke(self) -> None:
        """Wake the thread after the clock moved (admin advance)."""
        with self._wake:
            self._wake.notify()

    def run_due(self) -> int:
        """Fire every timer that is due now, in time order; returns how many fired."""
        fired = 0
        while True:
            # pop and fire under the world lock: the timer thread and an admin call that moved the
            # clock both run due timers, and a timer popped by one must not fire after a later
            # one the other popped (a chain of retries would lose its order, or its next link)
            with self.lock:
                with self._wake:
                    if not self._heap or self._heap[0].when > self.clock.now():
                        return fired
                    timer = heapq.heappop(self._heap)
                if timer.cancelled:
                    continue
                self._firing.when = timer.when
                try:
                    timer.fn(*timer.args)
                except Exception:  # a model bug must not stop the clock for everyone
                    log.exception("sandbox timer %s failed", getattr(timer.fn, "__qualname__", timer.fn))
                finally:
                    self._firing.when = None
            fired += 1

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="sandbox-timers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            self.run_due()
            with self._wake:
                if self._stopping:
                    return
                timeout = self.clock.real_seconds_until(self._heap[0].when) if self._heap else None
                self._wake.wait(timeout=None if timeout is None else min(timeout, 3600.0))

    def __getstate__(self) -> dict[str, Any]:
        return {"heap": [t for t in self._heap if not t.cancelled]}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._heap = state["heap"]
        heapq.heapify(self._heap)
        self._seq = itertools.count(max((t.seq for t in self._heap), default=0) + 1)
        self._wake = threading.Condition(threading.Lock())
        self._thread = None
        self._stopping = False
        self._firing = threading.local()
        # clock and lock are re-attached by the World that owns these timers
