"""AWS access: client factory per connector, client-side rate budget, shared ECS poller.

- `clients`: `AwsSettings`, `Clients` (botocore clients with retry, budget and call counting built in)
- `retry`: `call_scope` (deadline and abort for the enclosed calls), `RetryPolicy`, `Aborted`
- `budget`: `RateBudget` (ECS's token buckets, whole by default, adaptive to throttling), `BudgetTimeout`,
  `CALLS`
- `poller`: `ServicePoller`, `TaskPoller`, `Watch`, `PollPolicy` (one poller per account/Region/cluster)
- `events`: `EcsEventFeed` (ECS's EventBridge events from an SQS queue tell the pollers when to look);
  `event_queue`: `ensure_event_queue` (the queue and rules)
- `pagination`: `list_service_tasks`, `list_task_arns`, `describe_tasks`
- `ecs_limits`: the ECS throttling buckets (shared with the sandbox)

Importing this package does not import botocore; the first client does.
"""

from .budget import CALLS, BudgetTimeout, RateBudget
from .clients import AwsSettings, Clients
from .pagination import describe_tasks, list_service_tasks, list_task_arns
from .poller import PollPolicy, ServicePoller, ServiceWatch, TaskPoller, TaskWatch, Watch
from .retry import Aborted, RetryPolicy, call_scope

__all__ = [
    "CALLS",
    "Aborted",
    "AwsSettings",
    "BudgetTimeout",
    "Clients",
    "PollPolicy",
    "RateBudget",
    "RetryPolicy",
    "ServicePoller",
    "ServiceWatch",
    "TaskPoller",
    "TaskWatch",
    "Watch",
    "call_scope",
    "describe_tasks",
    "list_service_tasks",
    "list_task_arns",
]
