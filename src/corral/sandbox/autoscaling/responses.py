"""Application Auto Scaling API handlers: read the parameters, call the backend, shape the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .backend import Backend
from .paging import page
from .policies import STEP
from .targets import TargetKey

Params = dict[str, Any]
Result = dict[str, Any]


def _key(params: Params) -> TargetKey:
    return TargetKey(params["ServiceNamespace"], params["ResourceId"], params["ScalableDimension"])


def register_scalable_target(backend: Backend, params: Params) -> Result:
    target = backend.register_target(
        _key(params),
        min_capacity=params.get("MinCapacity"),
        max_capacity=params.get("MaxCapacity"),
        role_arn=params.get("RoleARN"),
        suspended=params.get("SuspendedState"),
        tags=params.get("Tags"),
    )
    return {"ScalableTargetARN": target.arn}


def describe_scalable_targets(backend: Backend, params: Params) -> Result:
    found = backend.describe_targets(
        params["ServiceNamespace"], params.get("ResourceIds"), params.get("ScalableDimension")
    )
    items, token = page(found, params.get("NextToken"), params.get("MaxResults"))
    return {"ScalableTargets": [target.to_api() for target in items], "NextToken": token}


def deregister_scalable_target(backend: Backend, params: Params) -> Result:
    backend.deregister_target(_key(params))
    return {}


def put_scaling_policy(backend: Backend, params: Params) -> Result:
    policy = backend.put_policy(_key(params), params["PolicyName"], params.get("PolicyType") or STEP, params)
    return {"PolicyARN": policy.arn, "Alarms": [alarm.to_api() for alarm in policy.alarms]}


def describe_scaling_policies(backend: Backend, params: Params) -> Result:
    found = backend.describe_policies(
        params["ServiceNamespace"],
        params.get("PolicyNames"),
        params.get("ResourceId"),
        params.get("ScalableDimension"),
    )
    items, token = page(found, params.get("NextToken"), params.get("MaxResults"))
    return {"ScalingPolicies": [policy.to_api() for policy in items], "NextToken": token}


def delete_scaling_policy(backend: Backend, params: Params) -> Result:
    backend.delete_policy(_key(params), params["PolicyName"])
    return {}


def put_scheduled_action(backend: Backend, params: Params) -> Result:
    backend.put_scheduled_action(_key(params), params["ScheduledActionName"], params)
    return {}


def describe_scheduled_actions(backend: Backend, params: Params) -> Result:
    found = backend.describe_scheduled_actions(
        params["ServiceNamespace"],
        params.get("ScheduledActionNames"),
        params.get("ResourceId"),
        params.get("ScalableDimension"),
    )
    items, token = page(found, params.get("NextToken"), params.get("MaxResults"))
    return {"ScheduledActions": [action.to_api() for action in items], "NextToken": token}


def delete_scheduled_action(backend: Backend, params: Params) -> Result:
    backend.delete_scheduled_action(_key(params), params["ScheduledActionName"])
    return {}


def describe_scaling_activities(backend: Backend, params: Params) -> Result:
    found = backend.describe_activities(
        params["ServiceNamespace"],
        params.get("ResourceId"),
        params.get("ScalableDimension"),
        include_not_scaled=bool(params.get("IncludeNotScaledActivities")),
    )
    items, token = page(found, params.get("NextToken"), params.get("MaxResults"))
    return {"ScalingActivities": [activity.to_api() for activity in items], "NextToken": token}


def tag_resource(backend: Backend, params: Params) -> Result:
    backend.target_by_arn(params["ResourceARN"]).tags.update(params.get("Tags") or {})
    return {}


def untag_resource(backend: Backend, params: Params) -> Result:
    tags = backend.target_by_arn(params["ResourceARN"]).tags
    for key in params.get("TagKeys") or []:
        tags.pop(key, None)
    return {}


def list_tags_for_resource(backend: Backend, params: Params) -> Result:
    return {"Tags": dict(backend.target_by_arn(params["ResourceARN"]).tags)}


OPERATIONS: dict[str, Callable[[Backend, Params], Result]] = {
    "RegisterScalableTarget": register_scalable_target,
    "DescribeScalableTargets": describe_scalable_targets,
    "DeregisterScalableTarget": deregister_scalable_target,
    "PutScalingPolicy": put_scaling_policy,
    "DescribeScalingPolicies": describe_scaling_policies,
    "DeleteScalingPolicy": delete_scaling_policy,
    "DescribeScalingActivities": describe_scaling_activities,
    "PutScheduledAction": put_scheduled_action,
    "DescribeScheduledActions": describe_scheduled_actions,
    "DeleteScheduledAction": delete_scheduled_action,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
