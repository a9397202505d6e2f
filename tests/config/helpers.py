"""Small projects written into a temporary folder, for the config tests."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from corral.cli.main import cli

EXAMPLES = Path(__file__).parents[2] / "examples"

CONNECTORS = """connector:
  name: AWS
  identifier: aws
  type: Aws
  spec:
    credential:
      type: InheritFromDelegate
      region: us-east-1
---
connector:
  name: Docker Hub
  identifier: docker_hub
  type: DockerRegistry
  spec:
    dockerRegistryUrl: https://registry.hub.docker.com/v2/
    auth:
      type: Anonymous
"""

ENVIRONMENT = """environment:
  name: Dev
  identifier: dev
  type: PreProduction
---
infrastructureDefinition:
  name: Fargate
  identifier: fargate
  environmentRef: dev
  type: ECS
  spec:
    connectorRef: aws
    region: us-east-1
    cluster: dev-cluster
    launchType: FARGATE
    executionRoleArn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole
    networkConfiguration:
      subnets: [subnet-infra]
      securityGroups: [sg-infra]
      assignPublicIp: DISABLED
"""

TASK = """family: web
networkMode: awsvpc
requiresCompatibilities: [FARGATE]
cpu: "256"
memory: "512"
containerDefinitions:
  - name: web
    image: <+artifact.image>
    essential: true
    portMappings:
      - containerPort: 80
"""

SERVICE_DEF = """serviceName: web
desiredCount: 1
networkConfiguration:
  awsvpcConfiguration:
    subnets: [subnet-service]
    securityGroups: [sg-service]
    assignPublicIp: ENABLED
"""


def service_yaml(*, variables: str = "", tag: str = '"1.25"', extra_manifests: str = "") -> str:
    return f"""service:
  name: Web
  identifier: web
  serviceDefinition:
    type: ECS
    spec:
      manifests:
        - manifest:
            identifier: task_def
            type: EcsTaskDefinition
            spec:
              store:
                type: Harness
                spec:
                  files: [web/task.yaml]
        - manifest:
            identifier: service_def
            type: EcsServiceDefinition
            spec:
              store:
                type: Harness
                spec:
                  files: [web/service.yaml]
{extra_manifests}      artifacts:
        primary:
          primaryArtifactRef: nginx
          sources:
            - identifier: nginx
              type: DockerRegistry
              spec:
                connectorRef: docker_hub
                imagePath: library/nginx
                tag: {tag}
{variables}"""


def write_project(root: Path, files: dict[str, str] | None = None, *, base: bool = True) -> Path:
    """A project at root: the base files (one Fargate service on one infrastructure), then
    `files` added or replacing them."""
    contents: dict[str, str] = {}
    if base:
        contents = {
            "corral.yaml": "project:\n  name: test\n",
            "connectors.yaml": CONNECTORS,
            "environment.yaml": ENVIRONMENT,
            "service.yaml": service_yaml(),
            "files/web/task.yaml": TASK,
            "files/web/service.yaml": SERVICE_DEF,
        }
    contents.update(files or {})
    for name, text in contents.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def corral(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
