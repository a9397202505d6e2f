"""Small projects with artifact sources, written into a temporary folder."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from corral.cli.main import cli
from corral.config import Project, load_project, read_project


def registry_connector(url: str, *, username: str | None = None, identifier: str = "registry") -> str:
    auth = "      type: Anonymous\n"
    if username is not None:
        auth = (
            "      type: UsernamePassword\n      spec:\n"
            f"        username: {username}\n        passwordRef: registry_password\n"
        )
    return (
        f"connector:\n  name: Registry\n  identifier: {identifier}\n  type: DockerRegistry\n  spec:\n"
        f"    dockerRegistryUrl: {url}\n    auth:\n{auth}"
    )


def aws_connector(endpoint_url: str, *, identifier: str = "aws") -> str:
    return (
        f"connector:\n  name: AWS\n  identifier: {identifier}\n  type: Aws\n  spec:\n"
        "    credential:\n      type: ManualConfig\n      spec:\n        accessKey: testing\n"
        "        secretKeyRef: aws_secret_key\n      region: us-east-1\n"
        f"    endpointUrl: {endpoint_url}\n"
    )


SECRETS = """secret:
  type: SecretText
  name: Registry password
  identifier: registry_password
  spec:
    secretManagerIdentifier: file
    value: secrets/registry-password
---
secret:
  type: SecretText
  name: AWS secret key
  identifier: aws_secret_key
  spec:
    secretManagerIdentifier: file
    value: secrets/aws-secret-key
"""


def source(
    identifier: str = "web", *, type: str = "DockerRegistry", connector: str = "registry", **spec: str
) -> str:
    """One `sources[]` item; spec members in YAML spelling (imagePath=..., tagRegex=...)."""
    lines = [
        f"            - identifier: {identifier}",
        f"              type: {type}",
        "              spec:",
        f"                connectorRef: {connector}",
    ]
    lines += [f"                {key}: {_quoted(value)}" for key, value in spec.items()]
    return "\n".join(lines) + "\n"


def service(*sources: str, primary: str | None = "web", variables: str = "") -> str:
    ref = f"          primaryArtifactRef: {primary}\n" if primary else ""
    return (
        "service:\n  name: Web\n  identifier: web\n  serviceDefinition:\n    type: ECS\n    spec:\n"
        f"      artifacts:\n        primary:\n{ref}          sources:\n{''.join(sources)}{variables}"
    )


def write_project(
    root: Path,
    *,
    connectors: list[str],
    service_yaml: str,
    password: str = "",
    extra: dict[str, str] | None = None,
    strict: bool = True,
) -> Project:
    """The project, loaded (strict: ConfigError for any problem; else read as far as it goes)."""
    files = {
        "corral.yaml": "project:\n  name: artifacts\n",
        "connectors.yaml": "---\n".join([*connectors, SECRETS]),
        "service.yaml": service_yaml,
        "secrets/registry-password": password,
        "secrets/aws-secret-key": "testing",
        **(extra or {}),
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return load_project(root) if strict else read_project(root)[0]


ENVIRONMENT = """environment:
  name: Dev
  identifier: dev
  type: PreProduction
---
infrastructureDefinition:
  name: EC2
  identifier: ec2
  environmentRef: dev
  type: ECS
  spec:
    connectorRef: aws
    region: us-east-1
    cluster: dev
    launchType: EC2
    executionRoleArn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole
"""

AWS_DELEGATE = """connector:
  name: AWS
  identifier: aws
  type: Aws
  spec:
    credential:
      type: InheritFromDelegate
"""

TASK_MANIFEST = """      manifests:
        - manifest:
            identifier: task_def
            type: EcsTaskDefinition
            spec:
              store:
                type: Harness
                spec:
                  files: [task.yaml]
"""


def task_definition(*environment: str) -> str:
    """An EC2 task definition whose image is <+artifact.image>; `environment` are NAME=VALUE."""
    text = (
        "family: web\nnetworkMode: bridge\ncontainerDefinitions:\n  - name: web\n"
        "    image: <+artifact.image>\n    memory: 256\n"
    )
    if environment:
        text += "    environment:\n"
        for item in environment:
            name, _, value = item.partition("=")
            text += f"      - name: {name}\n        value: '{value}'\n"
    return text


def deployable_project(
    root: Path,
    *,
    connector: str,
    source_yaml: str,
    password: str = "",
    environment: tuple[str, ...] = (),
    strict: bool = True,
) -> Project:
    """A service with one task definition manifest on environment dev, infrastructure ec2."""
    service_yaml = service(source_yaml).replace(
        "    spec:\n      artifacts:", "    spec:\n" + TASK_MANIFEST + "      artifacts:"
    )
    return write_project(
        root,
        connectors=[connector, AWS_DELEGATE],
        service_yaml=service_yaml,
        password=password,
        extra={"environment.yaml": ENVIRONMENT, "files/task.yaml": task_definition(*environment)},
        strict=strict,
    )


def corral(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _quoted(value: str) -> str:
    return value if value.startswith("<+") else "'" + value.replace("'", "''") + "'"
