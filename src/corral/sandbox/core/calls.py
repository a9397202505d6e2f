"""The call log: every API call the sandbox answered, for tests and benchmarks."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Call:
    seq: int
    time: float  # real time (epoch seconds)
    sandbox_time: float
    service: str
    operation: str
    region: str
    outcome: str  # "ok" or the error code answered
    duration_ms: float
    via: str = ""  # the sandbox service that made this call for a user (CloudFormation), else ""


class CallLog:
    def __init__(self, *, keep: int = 200_000) -> None:
        self._calls: deque[Call] = deque(maxlen=keep)
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._lock = threading.Lock()
        self._seq = 0

    def record(self, **fields: Any) -> None:
        with self._lock:
            self._seq += 1
            call = Call(seq=self._seq, **fields)
            self._calls.append(call)
            self._counts[(call.service, call.operation, call.outcome)] += 1

    def since(self, seq: int = 0, *, limit: int = 10_000) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(c) for c in self._calls if c.seq > seq][:limit]

    def counts(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"service": s, "operation": o, "outcome": r, "count": n}
                for (s, o, r), n in sorted(self._counts.items())
            ]

    def last_seq(self) -> int:
        return self._seq

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
            self._counts.clear()
