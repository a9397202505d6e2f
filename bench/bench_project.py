"""The tiny Corral project the deployment benchmarks run with `corral run`.

    write_project(folder, network, services, events_queue=None)

One AWS connector (the standard AWS settings of the process: AWS_ENDPOINT_URL and dummy keys
point it at the sandbox), one environment with the benchmark's cluster, and per ECS service a
Corral service (task definition and service definition files, image from a registry artifact
whose tag is a run-time input) and one pipeline `bench_rolling` with one ECS Rolling Deploy
stage per service, all stages in parallel (a fleet is one pipeline, one process). With
`events_queue`, the connector names the Region's SQS queue of ECS events (`ecsEventQueues`,
made by `corral connector ecs-events`), so steps look when ECS says something changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CONNECTOR = "bench_aws"
REGISTRY = "bench_registry"
REGISTRY_HOST = "registry.bench.internal"
PIPELINE = "bench_rolling"
IMAGE_PATH = "bench/app"


def image(tag: str) -> str:
    """The image `corral run --input tag=TAG` deploys, written the same way for the other tools."""
    return f"{REGISTRY_HOST}/{IMAGE_PATH}:{tag}"


def _dump(path: Path, *documents: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n".join(yaml.safe_dump(d, sort_keys=False) for d in documents))


def write_project(
    folder: Path,
    *,
    cluster: str,
    network: dict[str, Any],
    services: dict[str, dict[str, Any]],
    task_definitions: dict[str, dict[str, Any]],
    events_queue: str | None = None,
    region: str = "us-east-1",
) -> Path:
    """Write the project; `services` and `task_definitions` are the request bodies per service name
    (what the benchmark created the services with), the image replaced by the artifact's."""
    _dump(
        folder / "corral.yaml",
        {"project": {"name": "Bench", "store": {"url": "sqlite:///.corral/corral.db"}}},
    )
    aws_spec: dict[str, Any] = {"credential": {"type": "InheritFromDelegate", "region": region}}
    if events_queue:
        aws_spec["ecsEventQueues"] = {region: events_queue}
    _dump(
        folder / "connectors" / "connectors.yaml",
        {"connector": {"name": "Bench AWS", "identifier": CONNECTOR, "type": "Aws", "spec": aws_spec}},
        {
            "connector": {
                "name": "Bench registry",
                "identifier": REGISTRY,
                "type": "DockerRegistry",
                "spec": {
                    "dockerRegistryUrl": f"https://{REGISTRY_HOST}/v2/",
                    "providerType": "Other",
                    "auth": {"type": "Anonymous"},
                },
            }
        },
    )
    vpc = network["awsvpcConfiguration"]
    _dump(
        folder / "environments" / "bench.yaml",
        {"environment": {"name": "Bench", "identifier": "bench", "type": "PreProduction"}},
        {
            "infrastructureDefinition": {
                "name": "Bench cluster",
                "identifier": "bench",
                "environmentRef": "bench",
                "deploymentType": "ECS",
                "type": "ECS",
                "spec": {
                    "connectorRef": CONNECTOR,
                    "region": region,
                    "cluster": cluster,
                    "networkConfiguration": {
                        "subnets": vpc["subnets"],
                        "securityGroups": vpc["securityGroups"],
                        "assignPublicIp": vpc["assignPublicIp"],
                    },
                },
            }
        },
    )
    stages = []
    for name, service in services.items():
        ident = name.replace("-", "_")
        task = {**task_definitions[name]}
        task["containerDefinitions"] = [
            {**c, "image": "<+artifact.image>"} for c in task_definitions[name]["containerDefinitions"]
        ]
        definition = {k: v for k, v in service.items() if k != "networkConfiguration"}
        _dump(folder / "files" / "account" / name / "RegisterTaskDefinitionRequest.yaml", task)
        _dump(folder / "files" / "account" / name / "CreateServiceRequest.yaml", definition)
        _dump(folder / "services" / f"{name}.yaml", _service(ident, name))
        stages.append({"stage": _stage(ident)})
    pipeline = {
        "pipeline": {
            "name": "Bench rolling",
            "identifier": PIPELINE,
            "stages": stages if len(stages) == 1 else [{"parallel": stages}],
        }
    }
    _dump(folder / "pipelines" / "rolling.yaml", pipeline)
    return folder


def _service(ident: str, name: str) -> dict[str, Any]:
    def manifest(identifier: str, kind: str, file: str) -> dict[str, Any]:
        store = {"type": "Harness", "spec": {"files": [f"account:/{name}/{file}"]}}
        return {"manifest": {"identifier": identifier, "type": kind, "spec": {"store": store}}}

    return {
        "service": {
            "name": name,
            "identifier": ident,
            "serviceDefinition": {
                "type": "ECS",
                "spec": {
                    "manifests": [
                        manifest("task_def", "EcsTaskDefinition", "RegisterTaskDefinitionRequest.yaml"),
                        manifest("service_def", "EcsServiceDefinition", "CreateServiceRequest.yaml"),
                    ],
                    "artifacts": {
                        "primary": {
                            "primaryArtifactRef": "app",
                            "sources": [
                                {
                                    "identifier": "app",
                                    "type": "DockerRegistry",
                                    "spec": {
                                        "connectorRef": REGISTRY,
                                        "imagePath": IMAGE_PATH,
                                        "tag": "<+input>",
                                    },
                                }
                            ],
                        }
                    },
                },
            },
        }
    }


def _stage(ident: str) -> dict[str, Any]:
    return {
        "name": ident,
        "identifier": ident,
        "type": "Deployment",
        "spec": {
            "deploymentType": "ECS",
            "service": {"serviceRef": ident},
            "environment": {
                "environmentRef": "bench",
                "infrastructureDefinitions": [{"identifier": "bench"}],
            },
            "execution": {
                "steps": [
                    {
                        "step": {
                            "name": "ECS Rolling Deploy",
                            "identifier": "deploy",
                            "type": "EcsRollingDeploy",
                            "timeout": "15m",
                            "spec": {"sameAsAlreadyRunningInstances": False, "forceNewDeployment": False},
                        }
                    }
                ],
                "rollbackSteps": [
                    {
                        "step": {
                            "name": "ECS Rolling Rollback",
                            "identifier": "rollback",
                            "type": "EcsRollingRollback",
                            "timeout": "15m",
                            "spec": {},
                        }
                    }
                ],
            },
        },
        "failureStrategies": [{"onFailure": {"errors": ["AllErrors"], "action": {"type": "StageRollback"}}}],
    }
