"""What a simulated container does, chosen per image.

Each image reference (exact, or a shell pattern such as `*:broken` or `myrepo/*`) can be
given a behaviour; the first rule that matches wins, exact references before patterns.
Default: the image starts in about 2 sandbox seconds and stays healthy.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any

HEALTH_VALUES = ("pass", "fail")


@dataclass(frozen=True)
class ImageBehaviour:
    image: str = "*"
    start_delay: float = 2.0  # sandbox seconds from PENDING to RUNNING (image pull and start)
    pull_failure: str | None = None  # CannotPullContainerError text; the task never runs
    health_check: str = "pass"  # result of the container health check command
    elb_health: str = "pass"  # what the load balancer's health check sees
    elb_status_code: int = 503  # code reported when elb_health is fail
    exit_code: int | None = None  # exit with this code ...
    exit_after: float | None = None  # ... this many sandbox seconds after RUNNING
    crash_after: float | None = None  # exit 139 this many seconds after RUNNING
    healthy_after: float = 0.0  # health checks (container and ELB) fail until this long after RUNNING

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageBehaviour:
        names = {f.name for f in fields(cls)}
        camel = {_snake(k): v for k, v in data.items()}
        unknown = set(camel) - names
        if unknown:
            raise ValueError(f"unknown image behaviour fields: {', '.join(sorted(unknown))}")
        if "image" not in camel:
            raise ValueError("an image behaviour needs `image` (a reference or a pattern)")
        for key in ("health_check", "elb_health"):
            if key in camel and camel[key] not in HEALTH_VALUES:
                raise ValueError(f"{key} must be one of {', '.join(HEALTH_VALUES)}")
        return cls(**camel)

    def to_dict(self) -> dict[str, Any]:
        return {_camel(k): v for k, v in asdict(self).items()}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


DEFAULT = ImageBehaviour()


class ImageBehaviours:
    def __init__(self) -> None:
        self._rules: list[ImageBehaviour] = []
        self._lock = threading.Lock()

    def set(self, rules: list[dict[str, Any]]) -> None:
        parsed = [ImageBehaviour.from_dict(r) for r in rules]
        with self._lock:
            known = {r.image for r in parsed}
            self._rules = [r for r in self._rules if r.image not in known] + parsed

    def replace(self, rules: list[dict[str, Any]]) -> None:
        parsed = [ImageBehaviour.from_dict(r) for r in rules]
        with self._lock:
            self._rules = parsed

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_dict() for r in self._rules]

    def for_image(self, image: str) -> ImageBehaviour:
        with self._lock:
            for rule in self._rules:
                if rule.image == image:
                    return rule
            for rule in self._rules:
                if fnmatch.fnmatchcase(image, rule.image):
                    return rule
        return DEFAULT

    def __getstate__(self) -> dict[str, Any]:
        return {"rules": self._rules}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._rules = state["rules"]
        self._lock = threading.Lock()
