"""Every manifest example of the seed documents validates clean, converts to a request that
botocore's own parameter validator accepts, and passes the ECS rules with its partner."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.validate import ParamValidator

from corral.manifests import ManifestKind, check_ecs_rules, validate_manifest
from corral.manifests.kinds import SPECS

from .helpers import DATA, SEED_KINDS, seed_doc, seed_request


def test_every_fixture_file_is_listed() -> None:
    on_disk = {p.name for p in DATA.iterdir() if p.suffix in (".json", ".yaml")}
    assert on_disk == set(SEED_KINDS)


@pytest.mark.parametrize("name", sorted(SEED_KINDS))
def test_seed_manifest_validates_clean(name: str) -> None:
    assert validate_manifest(SEED_KINDS[name], seed_doc(name), source=name) == []


@pytest.mark.parametrize("name", sorted(SEED_KINDS))
def test_converted_seed_is_a_valid_boto3_request(name: str) -> None:
    kind = SEED_KINDS[name]
    spec = SPECS[kind]
    request = seed_request(name)
    # What Corral fills in at deploy time.
    if kind in (ManifestKind.SERVICE_DEFINITION, ManifestKind.RUN_TASK_REQUEST):
        request |= {"cluster": "ecs-tutorial", "taskDefinition": "fargate-task-definition:6"}
    if spec.service == "application-autoscaling":
        request["ResourceId"] = "service/ecs-tutorial/myapp"
    model = botocore.session.get_session().get_service_model(spec.service)
    report = ParamValidator().validate(request, model.operation_model(spec.operation).input_shape)
    assert not report.has_errors(), report.generate_report()


def test_json_and_yaml_tutorial_task_definitions_are_the_same_request() -> None:
    assert seed_request("tutorial-task-definition.json") == seed_request("tutorial-task-definition.yaml")


@pytest.mark.parametrize(
    ("task", "service", "infra"),
    [
        ("tutorial-task-definition.yaml", "tutorial-service-definition.yaml", {}),
        ("tutorial-task-definition.json", "tutorial-service-definition.json", {}),
        ("bluegreen-task-definition.yaml", "bluegreen-service-definition.yaml", {}),
        ("run-task-definition.yaml", "run-task-request.yaml", {}),
        ("firstgen-task-definition.json", "firstgen-service-discovery-service.json", {"launch_type": "EC2"}),
        ("firstgen-task-definition.json", "firstgen-replica-service.json", {"launch_type": "EC2"}),
        ("firstgen-task-definition.json", "firstgen-tags-service.json", {"launch_type": "EC2"}),
    ],
)
def test_seed_pairs_pass_the_ecs_rules(task: str, service: str, infra: dict[str, str]) -> None:
    problems = check_ecs_rules(
        seed_request(task), seed_request(service), source_task=task, source_service=service, **infra
    )
    assert problems == []
