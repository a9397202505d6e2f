"""Rollback data: the live service as it was before a deployment changed anything.

Kept with the step's result (through `StepContext.checkpoint`), so a rollback can run even after
the process that deployed crashed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import autoscaling
from .autoscaling import Scaling
from .context import StepContext
from .service_requests import request_from_live
from .services import describe_service

__all__ = ["ServiceSnapshot", "capture_service", "describe_service"]


@dataclass
class ServiceSnapshot:
    cluster: str
    service_name: str
    exists: bool  # ACTIVE when captured; False means this deployment creates it
    request: dict[str, Any] | None = None  # CreateService request rebuilt from the live service
    scaling: Scaling = field(default_factory=Scaling)
    status: str = "MISSING"
    # the description it was taken from (not part of the rollback data): saves the step a call
    live: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "serviceName": self.service_name,
            "exists": self.exists,
            "request": self.request,
            "scaling": self.scaling.to_dict(),
            "status": self.status,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServiceSnapshot:
        return cls(
            cluster=data["cluster"],
            service_name=data["serviceName"],
            exists=data["exists"],
            request=data.get("request"),
            scaling=Scaling.from_dict(data.get("scaling")),
            status=data.get("status", "MISSING"),
        )


_DESCRIBE = object()  # capture_service: no description given, describe the service


def capture_service(
    ctx: StepContext,
    cluster: str,
    name: str,
    live: dict[str, Any] | object | None = _DESCRIBE,
    *,
    with_scaling: bool = True,
) -> ServiceSnapshot:
    """The service as it is now; `live`: its description just read (None: MISSING), which saves
    a DescribeServices call. `with_scaling` False: no Application Auto Scaling call is made
    (skipApplicationScaling) and the snapshot holds no autoscaling."""
    if live is _DESCRIBE:
        live = describe_service(ctx, cluster, name)
    assert live is None or isinstance(live, dict)
    if live is None or live["status"] != "ACTIVE":
        status = "MISSING" if live is None else live["status"]
        ctx.log.info(f"Service {name} is {status} in cluster {cluster}: this is its first deployment")
        return ServiceSnapshot(cluster, name, exists=False, status=status, live=live)
    scaling = autoscaling.capture(ctx, cluster, name) if with_scaling else Scaling()
    ctx.log.info(
        f"Captured service {name}: task definition {live['taskDefinition']}, desired count {live['desiredCount']}, "
        + (
            f"{len(scaling.targets)} scalable target(s), {len(scaling.policies)} scaling policy(ies), "
            f"{len(scaling.scheduled or [])} scheduled action(s)"
            if with_scaling
            else "auto scaling not read (skipApplicationScaling)"
        )
    )
    return ServiceSnapshot(
        cluster, name, True, request_from_live(live, cluster=cluster), scaling, "ACTIVE", live=live
    )
