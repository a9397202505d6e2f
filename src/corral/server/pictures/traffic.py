"""Where traffic goes now for a service a stage deployed, as AWS says it, grouped for the
picture: load balancer -> listener -> rules (with their role) -> target groups (weight, share,
healthy / total targets) -> services.

The reading is the status model's (`corral.status.read_live`: the service or its Blue Green
pair, ECS blue/green's own rules, then `read_routes`); this module only arranges it.
"""

from __future__ import annotations

from typing import Any

from corral.status import Deployment, Route, read_live
from corral.status.model import to_dict


def traffic_picture(clients: Any, deployment: Deployment) -> dict[str, Any]:
    """{"kind", "services": [LiveService as JSON], "load_balancers": [{"name", "listeners": [...]}]}"""
    assert deployment.cluster and deployment.ecs_service
    live = read_live(
        clients,
        cluster=deployment.cluster,
        service_name=deployment.ecs_service,
        rule_roles=deployment.listener_rules,
    )
    return {
        "cluster": deployment.cluster,
        "kind": live.kind,
        "services": [to_dict(service) for service in live.services],
        "load_balancers": load_balancers(live.routes),
    }


def load_balancers(routes: list[Route]) -> list[dict[str, Any]]:
    """The routes (one per listener rule) as load balancer -> listener -> rules, in their order."""
    balancers: dict[str, dict[str, dict[str, Any]]] = {}
    for route in routes:
        listeners = balancers.setdefault(route.load_balancer, {})
        listener = listeners.setdefault(
            route.listener_arn, {"arn": route.listener_arn, "label": route.listener, "rules": []}
        )
        listener["rules"].append(
            {
                "arn": route.rule_arn,
                "label": route.rule,
                "role": route.role,
                "targets": [to_dict(target) for target in route.targets],
            }
        )
    return [{"name": name, "listeners": list(listeners.values())} for name, listeners in balancers.items()]
