"""What a Lambda function answers, chosen per function name, so tests need no function code.

Like image behaviours (images.py): each rule names a function, exactly or with a shell pattern
(`hook-*`); an exact name wins over patterns, then the first matching pattern. A function with
no rule runs its own code. Rules answer ECS lifecycle hooks' way by default ("Lambda hooks for
Amazon ECS service deployments": `{"hookStatus": ..., "callBackDelay": ...}`,
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html).
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any

HOOK_STATUSES = ("SUCCEEDED", "FAILED", "IN_PROGRESS")


@dataclass(frozen=True)
class FunctionBehaviour:
    function: str = "*"  # the function name, or a shell pattern
    hook_status: str = "SUCCEEDED"  # the answer once `in_progress_times` answers are given
    in_progress_times: int = 0  # answer IN_PROGRESS this many times first
    call_back_delay: int | None = None  # sent with IN_PROGRESS answers
    answer: Any = None  # any JSON answer instead of a hookStatus one
    error: str | None = None  # the function raises: errorMessage ...
    error_type: str = "Exception"  # ... of this errorType
    timeout: bool = False  # the function times out (answered at once, no waiting)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FunctionBehaviour:
        names = {f.name for f in fields(cls)}
        snake = {_snake(k): v for k, v in data.items()}
        unknown = set(snake) - names
        if unknown:
            raise ValueError(f"unknown function behaviour fields: {', '.join(sorted(unknown))}")
        if not isinstance(snake.get("function"), str) or not snake["function"]:
            raise ValueError("a function behaviour needs `function` (a function name or a pattern)")
        if snake.get("hook_status", "SUCCEEDED") not in HOOK_STATUSES:
            raise ValueError(f"hookStatus must be one of {', '.join(HOOK_STATUSES)}")
        times = snake.get("in_progress_times", 0)
        if not isinstance(times, int) or isinstance(times, bool) or times < 0:
            raise ValueError("inProgressTimes must be a whole number, 0 or more")
        return cls(**snake)

    def to_dict(self) -> dict[str, Any]:
        return {_camel(k): v for k, v in asdict(self).items()}

    def matches(self, name: str) -> bool:
        return self.function == name or fnmatch.fnmatchcase(name, self.function)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


class FunctionBehaviours:
    """The rules, and how many times each function has been answered under its rule."""

    def __init__(self) -> None:
        self._rules: list[FunctionBehaviour] = []
        self._answered: dict[tuple[str, str], int] = {}  # (rule's function, function ARN) -> count
        self._lock = threading.Lock()

    def set(self, rules: list[dict[str, Any]]) -> None:
        parsed = [FunctionBehaviour.from_dict(r) for r in rules]
        with self._lock:
            known = {r.function for r in parsed}
            self._rules = [r for r in self._rules if r.function not in known] + parsed
            self._answered = {k: v for k, v in self._answered.items() if k[0] not in known}

    def replace(self, rules: list[dict[str, Any]]) -> None:
        parsed = [FunctionBehaviour.from_dict(r) for r in rules]
        with self._lock:
            self._rules = parsed
            self._answered = {}

    def clear(self) -> None:
        self.replace([])

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_dict() for r in self._rules]

    def for_function(self, name: str) -> FunctionBehaviour | None:
        with self._lock:
            for rule in self._rules:
                if rule.function == name:
                    return rule
            for rule in self._rules:
                if fnmatch.fnmatchcase(name, rule.function):
                    return rule
        return None

    def count_answer(self, rule: FunctionBehaviour, function_arn: str) -> int:
        """How many answers this function had under the rule before this one (then counts it)."""
        with self._lock:
            key = (rule.function, function_arn)
            before = self._answered.get(key, 0)
            self._answered[key] = before + 1
            return before

    def __getstate__(self) -> dict[str, Any]:
        return {"rules": self._rules, "answered": self._answered}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._rules = state["rules"]
        self._answered = state["answered"]
        self._lock = threading.Lock()
