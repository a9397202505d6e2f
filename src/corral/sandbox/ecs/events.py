"""Service events: `{id, createdAt, message}`, newest first, at most 100 kept.

Recurring status messages (a task that cannot be placed, a deployment stuck on its bounds)
are not repeated while they are the newest event: ECS repeats them only once something
else happened in between.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .ids import new_uuid

KEEP = 100


@dataclass(frozen=True)
class ServiceEvent:
    id: str
    created_at: float
    message: str


class ServiceEvents:
    def __init__(self) -> None:
        self._events: deque[ServiceEvent] = deque(maxlen=KEEP)  # oldest first

    def add(self, at: float, message: str, *, repeat: bool = True) -> ServiceEvent | None:
        """Record `message`; with `repeat=False` skip it when it is already the newest event."""
        if not repeat and self._events and self._events[-1].message == message:
            return None
        event = ServiceEvent(id=new_uuid(), created_at=at, message=message)
        self._events.append(event)
        return event

    def newest_first(self) -> list[ServiceEvent]:
        return list(reversed(self._events))

    def messages(self) -> list[str]:
        """Oldest first (for tests and debugging)."""
        return [e.message for e in self._events]


def started(service: str, task_ids: list[str], replaced_unhealthy: int = 0) -> str:
    text = f"(service {service}) has started {len(task_ids)} tasks: {_tasks(task_ids)}."
    if replaced_unhealthy:
        text += f" Amazon ECS replaced {replaced_unhealthy} tasks due to an unhealthy status."
    return text


def stopped(service: str, task_ids: list[str]) -> str:
    return f"(service {service}) has stopped {len(task_ids)} running tasks: {_tasks(task_ids)}."


def registered_targets(service: str, count: int, target_group_arn: str) -> str:
    return f"(service {service}) registered {count} targets in (target-group {target_group_arn})"


def deregistered_targets(service: str, count: int, target_group_arn: str) -> str:
    return f"(service {service}) deregistered {count} targets in (target-group {target_group_arn})"


def draining(service: str, deployment_id: str, count: int) -> str:
    return f"(service {service}, taskSet {deployment_id}) has begun draining connections on {count} tasks."


def deployment_completed(service: str, deployment_id: str) -> str:
    return f"(service {service}) (deployment {deployment_id}) deployment completed."


def steady_state(service: str) -> str:
    return f"(service {service}) has reached a steady state."


def deployment_failed(service: str, deployment_id: str) -> str:
    return f"(service {service}) (deployment {deployment_id}) deployment failed: tasks failed to start."


def rolling_back(service: str, deployment_id: str) -> str:
    return f"(service {service}) rolling back to deployment {deployment_id}."


def failed_container_health(service: str, task_id: str) -> str:
    return f"(service {service}) (task {task_id}) failed container health checks."


def unhealthy_target(service: str, task_id: str, port: int, target_group_arn: str, reason: str) -> str:
    return (
        f"(service {service}) (task {task_id}) (port {port}) is unhealthy in "
        f"(target-group {target_group_arn}) due to (reason {reason})."
    )


def unable_to_place(service: str, reason: str) -> str:
    return f"(service {service}) was unable to place a task. Reason: {reason}"


NO_CONTAINER_INSTANCES_REASON = "No Container Instances were found in your cluster."


def no_container_instances(service: str) -> str:
    return (
        f"(service {service}) was unable to place a task because no container instance met all of its "
        f"requirements. Reason: {NO_CONTAINER_INSTANCES_REASON} For more information, "
        "see the Troubleshooting section of the Amazon ECS Developer Guide."
    )


def unable_to_start_consistently(service: str) -> str:
    return f"(service {service}) is unable to consistently start tasks successfully."


def stuck_on_bounds(service: str) -> str:
    # the Developer Guide lists it with the console's prefix "service (name)"; the API writes every
    # message with "(service name)" (the AWS CLI reference's describe-services output)
    return (
        f"(service {service}) was unable to stop or start tasks during a deployment because of the service "
        "deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again."
    )


def _tasks(task_ids: list[str]) -> str:
    return " ".join(f"(task {t})" for t in task_ids)
