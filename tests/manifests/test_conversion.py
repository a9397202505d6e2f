"""to_api: manifests in the seeds' casing become the boto3 request the model spells."""

from __future__ import annotations

import pytest

from corral.errors import ConfigError, Problem
from corral.manifests import ManifestKind, to_api, to_update_service

from .helpers import seed_request

K = ManifestKind


def test_autoscaling_camel_case_becomes_the_api_pascal_case() -> None:
    assert seed_request("scaling-policy.yaml") == {
        "ServiceNamespace": "ecs",
        "ScalableDimension": "ecs:service:DesiredCount",
        "PolicyName": "P1",
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": 60.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
            "ScaleOutCooldown": 300,
            "ScaleInCooldown": 300,
        },
    }


def test_integer_becomes_float_where_the_model_wants_a_double() -> None:
    request = seed_request("scaling-policy.yaml")
    assert isinstance(request["TargetTrackingScalingPolicyConfiguration"]["TargetValue"], float)


def test_api_spelling_is_accepted_as_is() -> None:
    doc = {"ServiceNamespace": "ecs", "MinCapacity": 1, "MaxCapacity": 3, "RoleARN": "arn:aws:iam::1:role/r"}
    assert to_api(K.SCALABLE_TARGET, doc)["RoleARN"] == "arn:aws:iam::1:role/r"
    assert to_api(K.TASK_DEFINITION, {"Family": "web"}) == {"family": "web"}


def test_autoscaling_namespace_and_dimension_default_for_ecs() -> None:
    assert to_api(K.SCALABLE_TARGET, {"minCapacity": 1, "maxCapacity": 2}) == {
        "ServiceNamespace": "ecs",
        "ScalableDimension": "ecs:service:DesiredCount",
        "MinCapacity": 1,
        "MaxCapacity": 2,
    }


def test_map_keys_are_left_as_written() -> None:
    doc = {
        "family": "web",
        "containerDefinitions": [
            {
                "name": "web",
                "image": "nginx",
                "dockerLabels": {"Com.Example.Team": "a", "version": "2"},
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web"}},
            }
        ],
    }
    container = to_api(K.TASK_DEFINITION, doc)["containerDefinitions"][0]
    assert container["dockerLabels"] == {"Com.Example.Team": "a", "version": "2"}
    assert container["logConfiguration"]["options"] == {"awslogs-group": "/ecs/web"}


def test_autoscaling_tags_map_keeps_its_keys() -> None:
    doc = {"minCapacity": 1, "maxCapacity": 2, "tags": {"team": "payments", "Env": "prod"}}
    assert to_api(K.SCALABLE_TARGET, doc)["Tags"] == {"team": "payments", "Env": "prod"}


def test_nulls_are_dropped() -> None:
    request = seed_request("tutorial-task-definition.yaml")
    assert "ipcMode" not in request
    assert "dnsSearchDomains" not in request["containerDefinitions"][0]


def test_strings_are_not_coerced_into_numbers() -> None:
    doc = {"family": "web", "containerDefinitions": [{"name": "web", "image": "x", "memory": "512"}]}
    with pytest.raises(ConfigError) as caught:
        to_api(K.TASK_DEFINITION, doc, source="files/task.yaml")
    assert caught.value.problems == [
        Problem(
            "files/task.yaml", "containerDefinitions[0].memory", 'expected an integer, got a string ("512")'
        )
    ]


def test_unknown_keys_are_not_sent() -> None:
    # a warning of check_manifest, as Harness ignores them: never part of the request
    assert to_api(K.SERVICE_DEFINITION, {"serviceName": "a", "desiredcount": 1}) == {"serviceName": "a"}


def test_conversion_does_not_require_what_deploy_fills_in() -> None:
    assert to_api(K.RUN_TASK_REQUEST, {"count": 2}) == {"count": 2}


def test_target_group_placeholder_survives_conversion() -> None:
    request = seed_request("bluegreen-service-definition.yaml")
    assert request["loadBalancers"][0]["targetGroupArn"] == "<+targetGroupArn>"


def test_update_service_request_from_create_service_request() -> None:
    create = seed_request("tutorial-service-definition.yaml") | {
        "cluster": "ecs-tutorial",
        "taskDefinition": "fargate-task-definition:6",
        "schedulingStrategy": "REPLICA",
        "tags": [{"key": "team", "value": "a"}],
    }
    assert to_update_service(create) == {
        "cluster": "ecs-tutorial",
        "service": "myapp",
        "taskDefinition": "fargate-task-definition:6",
        "desiredCount": 1,
        "networkConfiguration": create["networkConfiguration"],
        "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100},
    }
