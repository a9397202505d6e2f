"""What version runs where: each service and infrastructure, as AWS says now and as Corral last
deployed it (`corral status`, the UI's services dashboard).

    from corral.status import project_status, read_routes
    status = project_status(project, store)        # ProjectStatus; .to_dict() for JSON
    routes = read_routes(clients.elbv2, {tg_arn: ["web__1"]}, roles={rule_arn: "production"})
"""

from .build import connector_clients, project_status, service_history
from .deployed import deployments, last_deployments
from .drift import drift
from .live import read_live
from .model import (
    Deployment,
    LiveService,
    LiveState,
    ProjectStatus,
    Route,
    RouteTarget,
    ServiceStatus,
)
from .traffic import read_routes

__all__ = [
    "Deployment",
    "LiveService",
    "LiveState",
    "ProjectStatus",
    "Route",
    "RouteTarget",
    "ServiceStatus",
    "connector_clients",
    "deployments",
    "drift",
    "last_deployments",
    "project_status",
    "read_live",
    "read_routes",
    "service_history",
]
