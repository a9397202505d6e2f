"""All sandbox state: one World, holding per-account, per-Region state of each emulated service.

Like moto's BackendDict, a service backend is created the first time a Region is used.
Every change to state happens under `World.lock`: request handlers and timers both take it,
so models never see concurrent changes.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

from .clock import Clock
from .function_behaviours import FunctionBehaviours
from .images import ImageBehaviours
from .internal_clients import InternalClients
from .timers import Timers
from .timing_jitter import TimingJitter

DEFAULT_ACCOUNT = "123456789012"

# signing name (from the request's credential scope) -> package holding the emulation
EMULATED_SERVICES: dict[str, str] = {
    "ecs": "corral.sandbox.ecs",
    "elasticloadbalancing": "corral.sandbox.elbv2",
    "application-autoscaling": "corral.sandbox.autoscaling",
    "servicediscovery": "corral.sandbox.servicediscovery",
    "cloudformation": "corral.sandbox.cloudformation",
    "lambda": "corral.sandbox.lambda_",
}


class Backend:
    """Base of an emulated service's per-Region backend."""

    service: ClassVar[str] = ""

    def __init__(self, region: RegionState) -> None:
        self.region = region

    @property
    def world(self) -> World:
        return self.region.world

    @property
    def account_id(self) -> str:
        return self.region.account_id

    @property
    def region_name(self) -> str:
        return self.region.name

    def now(self) -> float:
        """Sandbox time; inside a timer, the moment it was due (Timers.due_time), so that what a
        late timer does in another service (a task registering its target, which starts the
        target's health checks) is timed as if it had fired on time."""
        return self.world.timers.due_time()

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region.name}:{self.region.account_id}:{resource}"


class RegionState:
    def __init__(self, world: World, account_id: str, name: str) -> None:
        self.world = world
        self.account_id = account_id
        self.name = name
        self._backends: dict[str, Backend] = {}

    def backend(self, service: str) -> Any:
        found = self._backends.get(service)
        if found is None:
            module = importlib.import_module(EMULATED_SERVICES[service])
            found = self._backends[service] = module.Backend(self)
        return found

    @property
    def ecs(self) -> Any:
        return self.backend("ecs")

    @property
    def elbv2(self) -> Any:
        return self.backend("elasticloadbalancing")

    @property
    def autoscaling(self) -> Any:
        return self.backend("application-autoscaling")

    @property
    def servicediscovery(self) -> Any:
        return self.backend("servicediscovery")

    @property
    def lambda_(self) -> Any:
        return self.backend("lambda")

    def backends(self) -> Iterator[Backend]:
        yield from self._backends.values()


class World:
    def __init__(self, *, speed: float = 1.0, jitter: TimingJitter | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = Clock(speed=speed)
        # seeded variation of task start, health check and draining times; None: fixed times
        self.jitter = jitter
        self.timers = Timers(self.clock, self.lock)
        self.images = ImageBehaviours()
        self.functions = FunctionBehaviours()
        self.regions: dict[tuple[str, str], RegionState] = {}
        # boto3 clients answered in-process (CloudFormation's calls); set by the SandboxApp
        self.internal: InternalClients | None = None
        # where the sandbox listens, for the code of Lambda functions it runs; set by Sandbox
        self.endpoint_url: str | None = None

    def aws_client(self, via: str, service: str, region: str) -> Any:
        """A boto3 client whose calls the sandbox answers as if a user had made them."""
        if self.internal is None:
            raise RuntimeError("this sandbox world has no internal clients (no SandboxApp)")
        return self.internal.client(via, service, region)

    def region(self, account_id: str, name: str) -> RegionState:
        key = (account_id, name)
        found = self.regions.get(key)
        if found is None:
            found = self.regions[key] = RegionState(self, account_id, name)
        return found

    def all_regions(self) -> list[RegionState]:
        return list(self.regions.values())

    def __getstate__(self) -> dict[str, Any]:
        return {
            "clock": self.clock,
            "timers": self.timers,
            "images": self.images,
            "functions": self.functions,
            "regions": self.regions,
            "jitter": self.jitter,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.lock = threading.RLock()
        self.clock = state["clock"]
        self.timers = state["timers"]
        self.timers.clock = self.clock
        self.timers.lock = self.lock
        self.images = state["images"]
        # state files written before functions had behaviours have none
        self.functions = state.get("functions") or FunctionBehaviours()
        self.regions = state["regions"]
        self.jitter = state.get("jitter")  # state files written before the option have none
        self.internal = None
        self.endpoint_url = None
