"""Emulated Amazon ECS: clusters, task definitions, tasks and services, on sandbox time.

What a user of the sandbox should know:

- Fargate tasks need nothing more. EC2 and DAEMON services need container instances: a
  cluster gets N simulated EC2 instances when created (or later tagged) with the tag
  `corral:sandbox:containerInstances=N` (0-100); changing the tag adds or retires instances.
- What a container does comes from the image behaviours (`sandbox.admin.set_images(...)`):
  start delay, pull failure, container and load balancer health, exit code and time, crash.
- Timing: ENI 1 s, image start 2 s by default, SIGTERM exit 1 s; a task without load
  balancer or container health check counts as healthy 40 s after RUNNING (the reference's
  rule); stopped tasks stay visible for an hour.
- Service deployments and revisions for every deployment; BLUE_GREEN, LINEAR and CANARY with
  listener rule weights, bake times, PAUSE and AWS_LAMBDA lifecycle hooks, alarm rollback.
- Not emulated: the CODE_DEPLOY and EXTERNAL deployment controllers, task sets, Service
  Connect, capacity provider scaling, placement constraints (echoed only), StartTask and the
  container agent APIs.

Layout: clusters.py, task_definitions.py (+ validation.py, fargate.py), tasks.py (lifecycle)
with task_parts.py and task_targets.py (load balancer and Cloud Map side), launch.py,
services.py, service_operations.py, deployments.py (and the circuit breaker), scheduler.py
(rolling and DAEMON), service_deployments.py (service deployment and revision records),
service_deployment_operations.py (their API), native.py (BLUE_GREEN/LINEAR/CANARY), hooks.py,
strategy_validation.py, events.py (service events), events_bridge.py (events on EventBridge),
health.py, views.py and responses.py (the API), backend.py.
Contracts with ELBv2, Cloud Map and Application Auto Scaling: docs/sandbox-internals.md.
"""

from __future__ import annotations

from .backend import Backend
from .responses import OPERATIONS

BOTOCORE_NAME = "ecs"

__all__ = ["BOTOCORE_NAME", "OPERATIONS", "Backend"]
