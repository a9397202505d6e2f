"""What a deployment step deploys: the rendered requests of one service on one cluster.

Built from `corral.manifests.service_rendering.RenderedService` in a pipeline (`EcsTarget.from_rendered`), or
by hand through the Python API. Requests use the API's member names (as boto3 takes them);
`service_definition` is a CreateService request without `cluster` and `taskDefinition`, which the
step forces.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .autoscaling import Scaling

if TYPE_CHECKING:
    from corral.manifests.service_rendering import RenderedService


@dataclass
class EcsTarget:
    cluster: str
    service_definition: dict[str, Any] | None = None
    task_definition: dict[str, Any] | None = None  # a RegisterTaskDefinition request ...
    task_definition_arn: str | None = (
        None  # ... or an existing revision (then every deploy forces a new deployment)
    )
    scalable_targets: list[dict[str, Any]] = field(default_factory=list)
    scaling_policies: list[dict[str, Any]] = field(default_factory=list)
    scheduled_actions: list[dict[str, Any]] = field(default_factory=list)  # PutScheduledAction requests
    run_task_request: dict[str, Any] | None = None
    sources: dict[str, str] = field(default_factory=dict)  # manifest kind -> file it came from

    @property
    def service_name(self) -> str:
        if not self.service_definition or "serviceName" not in self.service_definition:
            raise ValueError("the service definition has no serviceName")
        return str(self.service_definition["serviceName"])

    @property
    def scaling(self) -> Scaling:
        return Scaling(
            copy.deepcopy(self.scalable_targets),
            copy.deepcopy(self.scaling_policies),
            copy.deepcopy(self.scheduled_actions),
        )

    @classmethod
    def from_rendered(cls, rendered: RenderedService) -> EcsTarget:
        def request(manifest: Any) -> dict[str, Any] | None:
            return copy.deepcopy(manifest.request) if manifest is not None else None

        sources = {m.kind: m.source for m in rendered.manifests()}
        return cls(
            cluster=rendered.cluster,
            service_definition=request(rendered.service_definition),
            task_definition=request(rendered.task_definition),
            task_definition_arn=rendered.task_definition_arn,
            scalable_targets=[copy.deepcopy(m.request) for m in rendered.scalable_targets],
            scaling_policies=[copy.deepcopy(m.request) for m in rendered.scaling_policies],
            scheduled_actions=[copy.deepcopy(m.request) for m in rendered.scheduled_actions],
            run_task_request=request(rendered.run_task_request),
            sources=sources,
        )
