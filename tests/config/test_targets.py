"""Which infrastructures validation renders a service on: as the pipelines pair them."""

from __future__ import annotations

from pathlib import Path

from corral.config import deployment_targets, load_project, render_service

from .helpers import ENVIRONMENT, service_yaml, write_project

SECOND_INFRA = (
    ENVIRONMENT.split("---\n")[1]
    .replace("identifier: fargate", "identifier: ec2")
    .replace("launchType: FARGATE", "launchType: EC2")
)
API = service_yaml().replace("identifier: web", "identifier: api")


def pipeline(identifier: str, service: str, infra: str) -> str:
    return f"""pipeline:
  name: Deploy
  identifier: {identifier}
  stages:
    - stage:
        name: Deploy
        identifier: deploy
        type: Deployment
        spec:
          service:
            serviceRef: {service}
          environment:
            environmentRef: dev
            infrastructureDefinitions:
              - identifier: {infra}
          execution:
            steps:
              - step: {{name: Deploy, identifier: deploy, type: EcsRollingDeploy, spec: {{}}}}
"""


def test_without_pipelines_every_service_goes_everywhere(tmp_path: Path) -> None:
    write_project(tmp_path, {"infra2.yaml": SECOND_INFRA, "api.yaml": API})
    targets = deployment_targets(load_project(tmp_path))
    assert targets == {
        "web": [("dev", "ec2"), ("dev", "fargate")],
        "api": [("dev", "ec2"), ("dev", "fargate")],
    }


def test_pipelines_pair_services_with_infrastructures(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "infra2.yaml": SECOND_INFRA,
        "api.yaml": API,
        "p1.yaml": pipeline("web_to_fargate", "web", "fargate"),
        "p2.yaml": pipeline("api_anywhere", "<+input>.allowedValues(api)", "<+input>"),
    })  # fmt: skip
    targets = deployment_targets(load_project(tmp_path))
    assert targets == {"web": [("dev", "fargate")], "api": [("dev", "ec2"), ("dev", "fargate")]}


def test_inputs_of_other_services_overrides_are_not_asked_for(tmp_path: Path) -> None:
    env, infra = ENVIRONMENT.split("---\n")
    env += (
        "  serviceOverrides:\n    - serviceRef: api\n      variables:\n"
        "        - {name: region, type: String, value: <+input>}\n"
    )
    write_project(tmp_path, {"environment.yaml": env + "---\n" + infra, "api.yaml": API})
    project = load_project(tmp_path)
    assert render_service(project, "web", "dev", "fargate").service == "web"
    assert render_service(project, "api", "dev", "fargate", inputs={"value": "eu-west-1"}).service == "api"
