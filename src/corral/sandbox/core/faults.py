"""Fault injection for chosen operations: throttle storms, 5xx, added latency, dropped connections."""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FaultKind = Literal["throttle", "error", "latency", "drop", "drop_after"]
KINDS = ("throttle", "error", "latency", "drop", "drop_after")


@dataclass
class Fault:
    """`operation` and `service` are exact names or shell patterns (`Describe*`)."""

    kind: FaultKind
    operation: str = "*"
    service: str = "*"
    rate: float = 1.0  # share of matching calls affected
    count: int | None = None  # stop after this many (None: until removed)
    status: int = 500  # for kind=error
    # for kind=error: the AWS error code answered; InternalFailure is retried by SDKs, a client
    # error such as AccessDenied (with status 400) is not, so the call fails at once
    code: str = "InternalFailure"
    latency_ms: float = 0.0  # for kind=latency
    id: int = 0
    hits: int = field(default=0)

    def matches(self, service: str, operation: str) -> bool:
        return fnmatch.fnmatchcase(service, self.service) and fnmatch.fnmatchcase(operation, self.operation)


class Faults:
    def __init__(self, *, seed: int | None = None) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._next_id = 1
        self._random = random.Random(seed)

    def add(self, spec: dict[str, Any]) -> Fault:
        if spec.get("kind") not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(KINDS)}")
        allowed = set(Fault.__dataclass_fields__) - {"id", "hits"}
        unknown = set(spec) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        with self._lock:
            fault = Fault(**spec, id=self._next_id)
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def pick(self, service: str, operation: str) -> list[Fault]:
        """The faults that hit this call (each matching fault rolls its own rate)."""
        hit = []
        with self._lock:
            for fault in self._faults:
                if fault.count is not None and fault.hits >= fault.count:
                    continue
                if fault.matches(service, operation) and self._random.random() < fault.rate:
                    fault.hits += 1
                    hit.append(fault)
        return hit

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._faults]

    def remove(self, fault_id: int | None = None) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if fault_id is not None and f.id != fault_id]
