"""ECS's own deployments (the ECS deployment controller's service deployments): following them.

judge.py     the verdict on one service deployment from a DescribeServiceDeployments answer
progress.py  the progress line: stage, traffic weights, tasks, hooks, bake time left
follow.py    wait_for_service_deployment: poll until done, paused, at a stage, or failed
started.py   which deployment a CreateService / UpdateService started, and whether a service
             deploys with a native strategy (BLUE_GREEN, LINEAR, CANARY)
"""

from .follow import ServiceDeploymentFailed, deployment_outputs, wait_for_service_deployment
from .judge import LIFECYCLE_STAGES, PAUSED, SUCCESSFUL, WAIT_UNTIL, Verdict, judge

__all__ = [
    "LIFECYCLE_STAGES",
    "PAUSED",
    "SUCCESSFUL",
    "WAIT_UNTIL",
    "ServiceDeploymentFailed",
    "Verdict",
    "deployment_outputs",
    "judge",
    "wait_for_service_deployment",
]
