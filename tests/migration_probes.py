"""Tiny projects that use one Harness field or expression each, for tests/test_migration_doc.py.

`BASE` is the smallest ECS project Corral deploys (one service, environment, infrastructure, AWS
and Docker registry connectors, a task and a service definition in the file store). A probe
changes it to use one thing of the status table in docs/migrating-from-harness.md; the test runs
`corral validate` (and `corral render` where the table says what a field does) on the result.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TASK: dict[str, Any] = {
    "family": "web",
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "containerDefinitions": [
        {
            "name": "app",
            "image": "<+artifact.image>",
            "essential": True,
            "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
        }
    ],
}
SERVICE_DEFINITION: dict[str, Any] = {
    "serviceName": "web",
    "launchType": "FARGATE",
    "desiredCount": 1,
    "networkConfiguration": {
        "awsvpcConfiguration": {"subnets": ["subnet-0a1b2c3d"], "securityGroups": ["sg-0a1b2c3d"]}
    },
}


def _store(path: str) -> dict[str, Any]:
    return {"type": "Harness", "spec": {"files": [f"account:/web/{path}"]}}


def manifest(identifier: str, kind: str, path: str) -> dict[str, Any]:
    return {"manifest": {"identifier": identifier, "type": kind, "spec": {"store": _store(path)}}}


BASE_DOCS: dict[str, dict[str, Any]] = {
    "service": {
        "service": {
            "name": "web",
            "identifier": "web",
            "serviceDefinition": {
                "type": "ECS",
                "spec": {
                    "manifests": [
                        manifest("task_def", "EcsTaskDefinition", "task.yaml"),
                        manifest("service_def", "EcsServiceDefinition", "service.yaml"),
                    ],
                    "artifacts": {
                        "primary": {
                            "primaryArtifactRef": "app",
                            "sources": [
                                {
                                    "identifier": "app",
                                    "type": "DockerRegistry",
                                    "spec": {
                                        "connectorRef": "hub",
                                        "imagePath": "library/nginx",
                                        "tag": "1.27",
                                    },
                                }
                            ],
                        }
                    },
                    "variables": [{"name": "port", "type": "String", "value": "80"}],
                },
            },
        }
    },
    "environment": {"environment": {"name": "dev", "identifier": "dev", "type": "PreProduction"}},
    "infrastructure": {
        "infrastructureDefinition": {
            "name": "ecs",
            "identifier": "ecs",
            "environmentRef": "dev",
            "deploymentType": "ECS",
            "type": "ECS",
            "spec": {"connectorRef": "aws", "region": "us-east-1", "cluster": "dev"},
        }
    },
    "aws": {
        "connector": {
            "name": "aws",
            "identifier": "aws",
            "type": "Aws",
            "spec": {"credential": {"type": "InheritFromDelegate", "region": "us-east-1"}},
        }
    },
    "docker": {
        "connector": {
            "name": "hub",
            "identifier": "hub",
            "type": "DockerRegistry",
            "spec": {
                "dockerRegistryUrl": "https://registry.hub.docker.com/v2/",
                "providerType": "DockerHub",
                "auth": {"type": "Anonymous"},
            },
        }
    },
}


@dataclass
class Project:
    """The documents and manifest files of one probe project, changed in place by a probe."""

    docs: dict[str, dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(BASE_DOCS))
    files: dict[str, Any] = field(
        default_factory=lambda: {
            "task.yaml": copy.deepcopy(TASK),
            "service.yaml": copy.deepcopy(SERVICE_DEFINITION),
        }
    )
    extra: list[dict[str, Any]] = field(default_factory=list)  # more YAML documents (extra.yaml)
    texts: dict[str, str] = field(default_factory=dict)  # manifest files given as text
    settings: str = ""  # more of corral.yaml's `project:` (indented two spaces)

    @property
    def service(self) -> dict[str, Any]:
        return self.docs["service"]["service"]

    @property
    def spec(self) -> dict[str, Any]:
        return self.service["serviceDefinition"]["spec"]

    @property
    def source(self) -> dict[str, Any]:
        return self.spec["artifacts"]["primary"]["sources"][0]

    @property
    def env(self) -> dict[str, Any]:
        return self.docs["environment"]["environment"]

    @property
    def infra(self) -> dict[str, Any]:
        return self.docs["infrastructure"]["infrastructureDefinition"]

    @property
    def aws(self) -> dict[str, Any]:
        return self.docs["aws"]["connector"]

    @property
    def docker(self) -> dict[str, Any]:
        return self.docs["docker"]["connector"]

    @property
    def task(self) -> dict[str, Any]:
        return self.files["task.yaml"]

    @property
    def container(self) -> dict[str, Any]:
        return self.task["containerDefinitions"][0]

    def write(self, root: Path) -> Path:
        root.mkdir(parents=True, exist_ok=True)
        (root / "corral.yaml").write_text("project:\n  name: probe\n" + self.settings, encoding="utf-8")
        for name, doc in self.docs.items():
            (root / f"{name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        if self.extra:
            (root / "extra.yaml").write_text(
                yaml.safe_dump_all(self.extra, sort_keys=False), encoding="utf-8"
            )
        store = root / "files" / "account" / "web"
        store.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            text = json.dumps(data) if name.endswith(".json") else yaml.safe_dump(data, sort_keys=False)
            (store / name).write_text(text, encoding="utf-8")
        for name, text in self.texts.items():
            (store / name).write_text(text, encoding="utf-8")
        return root


Change = Callable[[Project], None]


@dataclass(frozen=True)
class Probe:
    """One use of a table row's field or expression.

    `names`: what a refusal (or a warning) must name. `shows`: for a supported row, text the
    rendered requests must hold (for a row kept as written: the text kept). `offline`: validate
    without Git and S3 stores (and no render). `render_args`: what `corral render` needs besides
    the pair (a tag picked by regex, a run-time input). `setup`: what the probe needs besides
    the field itself, applied to the compared project too."""

    change: Change
    names: str = ""
    shows: str = ""
    offline: bool = False
    render_args: tuple[str, ...] = ()
    # applied to the probe and to the project it is compared with (a row with no effect renders
    # the same as `setup` alone)
    setup: Change | None = None


def _set(path: str, value: Any) -> Change:
    """Set a dotted path below one of the documents (`aws.spec.proxy`) or the task (`task.x`)."""
    head, *rest = path.split(".")

    def change(project: Project) -> None:
        target: Any = project.task if head == "task" else getattr(project, head)
        for key in rest[:-1]:
            target = target.setdefault(key, {})
        target[rest[-1]] = value

    return change


def _image(expression: str) -> Change:
    def change(project: Project) -> None:
        project.container["image"] = expression

    return change


def _env_var(expression: str) -> Change:
    """The expression as the value of a container environment variable (a plain string field)."""

    def change(project: Project) -> None:
        project.container["environment"] = [{"name": "PROBE", "value": expression}]

    return change


def _extra(*docs: dict[str, Any]) -> Change:
    def change(project: Project) -> None:
        project.extra.extend(copy.deepcopy(list(docs)))

    return change


def _both(*changes: Change) -> Change:
    def change(project: Project) -> None:
        for one in changes:
            one(project)

    return change


def _manifest(kind: str, name: str, data: Any) -> Change:
    def change(project: Project) -> None:
        project.files[name] = data
        project.spec["manifests"].append(manifest(name.split(".")[0], kind, name))

    return change


def _store_type(store: dict[str, Any]) -> Change:
    def change(project: Project) -> None:
        project.spec["manifests"][1]["manifest"]["spec"]["store"] = store

    return change


def _source(kind: str, spec: dict[str, Any]) -> Change:
    def change(project: Project) -> None:
        project.source.update({"type": kind, "spec": spec})

    return change


def _service_text(text: str, suffix: str = "json") -> Change:
    def change(project: Project) -> None:
        del project.files["service.yaml"]
        project.texts[f"service.{suffix}"] = text
        project.spec["manifests"][1]["manifest"]["spec"]["store"] = _store(f"service.{suffix}")

    return change


def _pipeline(step_type: str, spec: dict[str, Any]) -> Change:
    step = {"step": {"name": "s", "identifier": "s", "type": step_type, "timeout": "10m", "spec": spec}}
    return _extra(
        {
            "pipeline": {
                "name": "p",
                "identifier": "p",
                "stages": [
                    {
                        "stage": {
                            "name": "d",
                            "identifier": "d",
                            "type": "Deployment",
                            "spec": {
                                "deploymentType": "ECS",
                                "service": {"serviceRef": "web"},
                                "environment": {
                                    "environmentRef": "dev",
                                    "infrastructureDefinitions": [{"identifier": "ecs"}],
                                },
                                "execution": {"steps": [step]},
                            },
                        }
                    }
                ],
            }
        }
    )


def _provisioned(steps: list[dict[str, Any]], rollback: list[dict[str, Any]] | None = None) -> Change:
    """A pipeline whose stage runs `steps` as its environment.provisioner before deploying."""
    pipeline = _pipeline("EcsRollingDeploy", {})

    def change(project: Project) -> None:
        pipeline(project)
        environment = project.extra[-1]["pipeline"]["stages"][0]["stage"]["spec"]["environment"]
        environment["provisioner"] = {
            "steps": [{"step": {"name": s["identifier"], "timeout": "10m", **s}} for s in steps],
            "rollbackSteps": [
                {"step": {"name": s["identifier"], "timeout": "10m", **s}} for s in rollback or []
            ],
        }

    return change


def _stage(
    service: dict[str, Any], environment: dict[str, Any], *, second: dict[str, Any] | None = None
) -> Change:
    """A pipeline whose Deployment stage (two, with `second` as the second's service) has these
    service and environment fields over the base ones (a None value removes a field)."""

    def stage(identifier: str, service_fields: dict[str, Any]) -> dict[str, Any]:
        env = {"environmentRef": "dev", "infrastructureDefinitions": [{"identifier": "ecs"}], **environment}
        step = {"step": {"name": "w", "identifier": "w", "type": "Wait", "spec": {"duration": "1s"}}}
        spec = {
            "deploymentType": "ECS",
            "service": service_fields,
            "environment": {key: value for key, value in env.items() if value is not None},
            "execution": {"steps": [step]},
        }
        return {"stage": {"name": identifier, "identifier": identifier, "type": "Deployment", "spec": spec}}

    stages = [stage("d", service)] + ([stage("again", second)] if second is not None else [])
    return _extra({"pipeline": {"name": "p", "identifier": "p", "stages": stages}})


def _runtime_tag_and_cluster(project: Project) -> None:
    project.spec["artifacts"]["primary"]["sources"][0]["spec"]["tag"] = "<+input>"
    project.infra["spec"]["cluster"] = "<+input>"


def _tag_inputs(tag: str) -> dict[str, Any]:
    source = {"identifier": "app", "type": "DockerRegistry", "spec": {"tag": tag}}
    return {"serviceDefinition": {"type": "ECS", "spec": {"artifacts": {"primary": {"sources": [source]}}}}}


def _template(kind: str, identifier: str, spec: dict[str, Any], version: str = "1") -> dict[str, Any]:
    body = {"name": identifier, "identifier": identifier, "versionLabel": version, "type": kind, "spec": spec}
    return {"template": body}


def _use(identifier: str, ref: str, version: str | None = "1", **link: Any) -> dict[str, Any]:
    """A stage, step group or step body that uses a template."""
    link = {"templateRef": ref, **({"versionLabel": version} if version else {}), **link}
    return {"name": identifier, "identifier": identifier, "template": link}


WAIT_TEMPLATE = {"type": "Wait", "timeout": "1m", "spec": {"duration": "<+input>"}}
WAIT_INPUTS = {"templateInputs": {"type": "Wait", "spec": {"duration": "1s"}}}


def _step_from_template(version: str | None = "1", **link: Any) -> Change:
    """The probe pipeline's one step, from a Wait step template (`account.wait`)."""

    def change(project: Project) -> None:
        _pipeline("Wait", {"duration": "1s"})(project)
        stage = project.extra[-1]["pipeline"]["stages"][0]["stage"]
        stage["spec"]["execution"]["steps"] = [{"step": _use("s", "account.wait", version, **link)}]
        project.extra.append(_template("Step", "wait", WAIT_TEMPLATE))

    return change


SCRIPT_PROVISION = {
    "identifier": "make",
    "type": "ShellScriptProvision",
    "spec": {
        "source": {
            "type": "Inline",
            "spec": {"script": 'echo \'{"cluster_name": "c1"}\' > "$PROVISIONER_OUTPUT_PATH"'},
        },
        "environmentVariables": [],
    },
}
CREATE_STACK = {
    "identifier": "create",
    "type": "CreateStack",
    "spec": {
        "provisionerIdentifier": "vpc",
        "configuration": {
            "stackName": "vpc",
            "connectorRef": "aws",
            "region": "us-east-1",
            "templateFile": {"type": "Inline", "spec": {"templateBody": "Resources: {}"}},
            "parameterOverrides": [{"name": "Env", "type": "String", "value": "dev"}],
            "capabilities": ["CAPABILITY_IAM"],
            "skipOnStackStatuses": ["UPDATE_ROLLBACK_COMPLETE"],
        },
    },
}
ROLLBACK_STACK = {
    "identifier": "undo",
    "type": "RollbackStack",
    "spec": {"configuration": {"provisionerIdentifier": "vpc"}},
}
DELETE_STACK = {
    "identifier": "remove",
    "type": "DeleteStack",
    "spec": {"provisionerIdentifier": "vpc", "configuration": {"type": "Inherited"}},
}


def _template_kinds(project: Project) -> None:
    """A pipeline from a Pipeline template, whose stage is a Stage template, whose step group is a
    StepGroup template, whose step is a Step template."""
    group = {"stageType": "Custom", "steps": [{"step": _use("w", "wait", **WAIT_INPUTS)}]}
    stage = {"type": "Custom", "spec": {"execution": {"steps": [{"stepGroup": _use("g", "org.group")}]}}}
    project.extra += [
        _template("Step", "wait", WAIT_TEMPLATE),
        _template("StepGroup", "group", group),
        _template("Stage", "stage", stage),
        _template("Pipeline", "golden", {"stages": [{"stage": _use("only", "stage")}]}),
        {"pipeline": _use("from_template", "golden")},
    ]


def _stable_version(project: Project) -> None:
    _step_from_template(None, **WAIT_INPUTS)(project)
    other = _template("Step", "wait", {**WAIT_TEMPLATE, "timeout": "2m"}, version="2")
    project.extra.append(other)
    project.settings = "  templates:\n    stable: {wait: '2'}\n"


def _task_definition_arn(project: Project) -> None:
    project.spec["manifests"].pop(0)
    project.spec["ecsTaskDefinitionArn"] = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3"


def _variables(project: Project) -> None:
    project.spec["variables"] += [
        {"name": "count", "type": "Number", "value": 2},
        {"name": "tok", "type": "Secret", "value": "token"},
    ]


def _matrix(project: Project) -> None:
    _pipeline("Wait", {"duration": "1s"})(project)
    stage = project.extra[-1]["pipeline"]["stages"][0]["stage"]
    stage["strategy"] = {"matrix": {"maxConcurrency": 1, "weight": [50, 100]}}


SECRET = {
    "secret": {
        "type": "SecretText",
        "name": "token",
        "identifier": "token",
        "spec": {"secretManagerIdentifier": "env", "valueType": "Reference", "value": "PROBE_TOKEN"},
    }
}
SERVICE_OVERRIDE = {
    "environmentRef": "dev",
    "serviceRef": "web",
    "variables": [{"name": "port", "type": "String", "value": "81"}],
}
GIT_STORE = {
    "type": "Git",
    "spec": {"connectorRef": "git", "gitFetchType": "Branch", "branch": "main", "paths": ["service.yaml"]},
}
GIT_CONNECTOR = {
    "connector": {
        "name": "git",
        "identifier": "git",
        "type": "Git",
        "spec": {
            "url": "https://git.example.com/acme/deploy.git",
            "connectionType": "Repo",
            "type": "Http",
            "spec": {},
        },
    }
}
TARGET = {
    "serviceNamespace": "ecs",
    "scalableDimension": "ecs:service:DesiredCount",
    "minCapacity": 1,
    "maxCapacity": 3,
}
POLICY = {
    "scalableDimension": "ecs:service:DesiredCount",
    "serviceNamespace": "ecs",
    "policyName": "P1",
    "policyType": "TargetTrackingScaling",
    "targetTrackingScalingPolicyConfiguration": {
        "targetValue": 60,
        "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageCPUUtilization"},
    },
}
SCHEDULED = {
    "scalableDimension": "ecs:service:DesiredCount",
    "serviceNamespace": "ecs",
    "scheduledActionName": "night",
    "schedule": "cron(0 22 ? * MON-FRI *)",
    "timezone": "Europe/Paris",
    "scalableTargetAction": {"minCapacity": 1, "maxCapacity": 1},
}
SERVICE_CONNECT = {
    "enabled": True,
    "namespace": "apps",
    "services": [{"portName": "http", "discoveryName": "web", "clientAliases": [{"port": 80}]}],
}
DIGEST = "sha256:" + "ab" * 32

# One probe per row of the status table, keyed by the row's first cell (without backticks).
PROBES: dict[str, Probe] = {
    # ---- every entity ----
    "identifier, name": Probe(_set("service.name", "Web service"), shows='"service": "web"'),
    "orgIdentifier, projectIdentifier": Probe(
        _both(_set("service.orgIdentifier", "default"), _set("service.projectIdentifier", "cd"))
    ),
    "accountIdentifier": Probe(_set("service.accountIdentifier", "px7xd_BFRCi")),
    "description, tags": Probe(_both(_set("env.description", "dev"), _set("env.tags", {"team": "a"}))),
    "account.x / org.x references": Probe(
        _set("infra.spec.connectorRef", "account.aws"), shows='"cluster": "dev"'
    ),
    # ---- service ----
    "serviceDefinition.type: ECS": Probe(lambda p: None, shows='"family": "web"'),
    "serviceDefinition.type: Kubernetes": Probe(
        _set("service.serviceDefinition.type", "Kubernetes"), names="serviceDefinition.type"
    ),
    "EcsTaskDefinition": Probe(lambda p: None, shows='"taskDefinition"'),
    "EcsServiceDefinition": Probe(lambda p: None, shows='"serviceName": "web"'),
    "EcsScalableTargetDefinition": Probe(
        _manifest("EcsScalableTargetDefinition", "target.yaml", TARGET), shows='"MaxCapacity": 3'
    ),
    "EcsScalingPolicyDefinition": Probe(
        _manifest("EcsScalingPolicyDefinition", "policy.yaml", POLICY), shows='"PolicyName": "P1"'
    ),
    "EcsScheduledActionDefinition": Probe(
        _both(
            _manifest("EcsScalableTargetDefinition", "target.yaml", TARGET),
            _manifest("EcsScheduledActionDefinition", "scheduled.yaml", SCHEDULED),
        ),
        shows='"ScheduledActionName": "night"',
    ),
    "ecsTaskDefinitionArn": Probe(_task_definition_arn),
    "store type Harness": Probe(lambda p: None, shows="files/account/web/service.yaml"),
    "store type Git, Github": Probe(_both(_store_type(GIT_STORE), _extra(GIT_CONNECTOR)), offline=True),
    "store type S3": Probe(
        _store_type(
            {
                "type": "S3",
                "spec": {
                    "connectorRef": "aws",
                    "region": "us-east-1",
                    "bucketName": "b",
                    "paths": ["s.yaml"],
                },
            }
        ),
        offline=True,
    ),
    "store type Bitbucket, GitLab": Probe(
        _store_type({"type": "Bitbucket", "spec": {"connectorRef": "git", "paths": ["s.yaml"]}}),
        names="Bitbucket",
    ),
    "configFiles (service)": Probe(_set("spec.configFiles", []), names="configFiles"),
    "artifact type DockerRegistry": Probe(lambda p: None, shows="registry.hub.docker.com/library/nginx:1.27"),
    "artifact type Ecr": Probe(
        _both(
            _source(
                "Ecr",
                {
                    "connectorRef": "aws",
                    "imagePath": "web",
                    "region": "us-east-1",
                    "registryId": "123456789012",
                    "tag": "7",
                },
            ),
            _set("task.executionRoleArn", "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"),
        ),
        shows="123456789012.dkr.ecr.us-east-1.amazonaws.com/web:7",
    ),
    "Ecr without registryId": Probe(
        _both(
            _source("Ecr", {"connectorRef": "aws", "imagePath": "web", "region": "us-east-1", "tag": "7"}),
            _set("task.executionRoleArn", "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"),
        ),
        shows="aws_account_id.dkr.ecr.us-east-1.amazonaws.com/web:7",
    ),
    "artifact type Gcr, ArtifactoryRegistry, Nexus3Registry": Probe(
        _source("Gcr", {"connectorRef": "hub", "imagePath": "web", "tag": "7"}), names="type"
    ),
    "tag": Probe(_set("source.spec.tag", "1.25"), shows="nginx:1.25"),
    "tagRegex": Probe(
        _both(lambda p: p.source["spec"].pop("tag"), _set("source.spec.tagRegex", r"^1\.\d+$")),
        shows="nginx:1.26",
        render_args=("--set", "artifact.tag=1.26"),
    ),
    "digest: sha256:...": Probe(_set("source.spec.digest", DIGEST), shows=DIGEST),
    'digest: ""': Probe(_set("source.spec.digest", ""), shows='library/nginx:1.27"'),  # no @sha256:
    "tag: <+input> without a default": Probe(
        _set("source.spec.tag", "<+input>"),
        names="spec.tag",
        shows="nginx:1.28",
        render_args=("--input", "tag=1.28"),
    ),
    "<+input>.default(x).allowedValues(a,b)": Probe(
        _set("source.spec.tag", "<+input>.default(1.26).allowedValues(1.26,1.27)"), shows="nginx:1.26"
    ),
    "primaryArtifactRef: <+input>": Probe(
        _set("spec.artifacts.primary.primaryArtifactRef", "<+input>"),
        shows="nginx:1.27",
        render_args=("--input", "primaryArtifactRef=app"),
    ),
    "variables (String, Number, Secret)": Probe(_both(_variables, _extra(SECRET))),
    "gitOpsEnabled": Probe(_set("service.gitOpsEnabled", False)),
    # ---- environment ----
    "type: Production, PreProduction": Probe(_set("env.type", "Production"), shows='"environment": "dev"'),
    "environment variables": Probe(
        _both(
            _set("env.variables", [{"name": "owner", "type": "String", "value": "team-a"}]),
            _env_var("<+env.variables.owner>"),
        ),
        shows="team-a",
    ),
    "overrides.manifests": Probe(
        _both(
            lambda p: p.files.__setitem__("service2.yaml", {**SERVICE_DEFINITION, "serviceName": "web2"}),
            _set(
                "env.overrides",
                {"manifests": [manifest("service_def", "EcsServiceDefinition", "service2.yaml")]},
            ),
        ),
        shows='"serviceName": "web2"',
    ),
    "overrides.configFiles": Probe(_set("env.overrides", {"configFiles": []}), names="configFiles"),
    "secretFiles (config file store)": Probe(
        _both(
            _set(
                "spec.configFiles",
                [
                    {
                        "configFile": {
                            "identifier": "cf",
                            "spec": {"store": {"type": "Harness", "spec": {"secretFiles": ["token"]}}},
                        }
                    }
                ],
            ),
            _env_var('<+configFile.getAsBase64("cf")>'),
            _extra(SECRET),
        ),
        shows='"value": "**************"',  # the base64 of the secret's value, masked as a secret
    ),
    # ---- infrastructure definition ----
    "type: ECS, spec.connectorRef, spec.region, spec.cluster": Probe(
        _set("infra.spec.cluster", "blue"), shows='"cluster": "blue"'
    ),
    "deploymentType: ECS": Probe(_set("infra.deploymentType", "ECS")),
    "allowSimultaneousDeployments": Probe(_set("infra.allowSimultaneousDeployments", True)),
    "spec.cluster: <+input>.default(x)": Probe(
        _set("infra.spec.cluster", "<+input>.default(green)"), shows='"cluster": "green"'
    ),
    "provisioner (dynamic infrastructure)": Probe(
        _both(_set("infra.spec.provisioner", "make"), _provisioned([SCRIPT_PROVISION])),
        shows='"cluster": "dev"',
    ),
    # ---- connectors ----
    "Aws ManualConfig (accessKey or accessKeyRef, secretKeyRef)": Probe(
        _both(
            _set(
                "aws.spec.credential",
                {"type": "ManualConfig", "spec": {"accessKey": "AKIA", "secretKeyRef": "token"}},
            ),
            _extra(SECRET),
        )
    ),
    "sessionTokenRef": Probe(
        _both(
            _set(
                "aws.spec.credential",
                {
                    "type": "ManualConfig",
                    "spec": {"accessKey": "AKIA", "secretKeyRef": "token", "sessionTokenRef": "token"},
                },
            ),
            _extra(SECRET),
        ),
    ),
    "Aws InheritFromDelegate": Probe(lambda p: None),
    "Aws Irsa": Probe(_set("aws.spec.credential", {"type": "Irsa", "region": "us-east-1"}), names="Irsa"),
    "Aws OidcAuthentication": Probe(
        _set(
            "aws.spec.credential",
            {"type": "OidcAuthentication", "spec": {"iamRoleArn": "arn:aws:iam::1:role/r"}},
        ),
        names="OidcAuthentication",
    ),
    "crossAccountAccess (crossAccountRoleArn, externalId)": Probe(
        _set(
            "aws.spec.credential.crossAccountAccess",
            {"crossAccountRoleArn": "arn:aws:iam::1:role/r", "externalId": "x"},
        )
    ),
    "awsSdkClientBackOffStrategyOverride": Probe(
        _set(
            "aws.spec.awsSdkClientBackOffStrategyOverride",
            {"type": "FixedDelayBackoffStrategy", "spec": {"fixedBackoff": 0}},
        )
    ),
    "ignoreTestConnection, proxy: false": Probe(
        _both(_set("aws.spec.proxy", False), _set("aws.spec.ignoreTestConnection", False))
    ),
    "proxy: true": Probe(_set("aws.spec.proxy", True), names="proxy"),
    "delegateSelectors, executeOnDelegate": Probe(
        _both(_set("aws.spec.delegateSelectors", ["d"]), _set("aws.spec.executeOnDelegate", True))
    ),
    "DockerRegistry Anonymous, UsernamePassword": Probe(
        _both(
            _set(
                "docker.spec.auth",
                {"type": "UsernamePassword", "spec": {"username": "u", "passwordRef": "token"}},
            ),
            _extra(SECRET),
        )
    ),
    "Github (Http UsernameToken, apiAccess)": Probe(
        _extra(
            SECRET,
            {
                "connector": {
                    "name": "gh",
                    "identifier": "gh",
                    "type": "Github",
                    "spec": {
                        "url": "https://github.com/acme/deploy",
                        "type": "Repo",
                        "authentication": {
                            "type": "Http",
                            "spec": {"type": "UsernameToken", "spec": {"username": "u", "tokenRef": "token"}},
                        },
                        "apiAccess": {"type": "Token", "spec": {"tokenRef": "token"}},
                    },
                }
            },
        )
    ),
    "Git (Http, Ssh)": Probe(_extra(GIT_CONNECTOR)),
    # ---- secrets ----
    "SecretText with a value": Probe(_extra(SECRET)),
    "SecretText without value (harnessSecretManager export)": Probe(
        _extra(
            {
                "secret": {
                    "type": "SecretText",
                    "name": "s",
                    "identifier": "s",
                    "spec": {"secretManagerIdentifier": "harnessSecretManager", "valueType": "Inline"},
                }
            }
        ),
        names="value",
    ),
    "SecretFile": Probe(
        _extra(
            {
                "secret": {
                    "type": "SecretFile",
                    "name": "f",
                    "identifier": "f",
                    "spec": {"secretManagerIdentifier": "harnessSecretManager"},
                }
            }
        ),
        names="SecretFile",
    ),
    # ---- documents ----
    "serviceOverrides: document": Probe(
        _extra({"serviceOverrides": SERVICE_OVERRIDE}),
        setup=_env_var("port <+serviceVariables.port>"),
        shows='"value": "port 81"',
    ),
    "overrides: document (Overrides V2)": Probe(
        _extra(
            {
                "overrides": {
                    "identifier": "dev_web",
                    "environmentRef": "dev",
                    "serviceRef": "web",
                    "type": "ENV_SERVICE_OVERRIDE",
                    "spec": {"variables": SERVICE_OVERRIDE["variables"]},
                }
            }
        ),
        setup=_env_var("port <+serviceVariables.port>"),
        shows='"value": "port 81"',
    ),
    # ---- manifests ----
    "null fields": Probe(_set("task.ipcMode", None), shows='"family": "web"'),
    "unknown field (platformFamily in a task definition)": Probe(
        _set("task.platformFamily", "Linux"), names="platformFamily"
    ),
    "read-only fields of describe output (taskDefinitionArn, revision, status)": Probe(
        _set("task.taskDefinitionArn", "arn:aws:ecs:us-east-1:1:task-definition/web:1"),
        names="taskDefinitionArn",
        shows='"family": "web"',
    ),
    'describe wrappers {"taskDefinition": {...}}, {"services": [...]}': Probe(
        _service_text(json.dumps({"services": [SERVICE_DEFINITION]})),
        names="services",
        shows='"serviceName": "web"',
    ),
    "JSON and YAML manifests": Probe(
        _service_text(json.dumps(SERVICE_DEFINITION)), shows="files/account/web/service.json"
    ),
    "unquoted <+...> in JSON": Probe(
        _service_text(
            json.dumps({**SERVICE_DEFINITION, "desiredCount": "@@"}).replace(
                '"@@"', "<+serviceVariables.port>"
            )
        ),
        names="invalid JSON",
        shows='"desiredCount": 80',  # once rendered into the text first (the String "80" fits the integer field)
    ),
    "FirstGen ${serviceVariable.NAME}, ${DOCKER_IMAGE_NAME}": Probe(
        _image("${DOCKER_IMAGE_NAME}"), shows="nginx:1.27"
    ),
    "serviceConnectConfiguration, vpcLatticeConfigurations": Probe(
        lambda p: p.files["service.yaml"].__setitem__("serviceConnectConfiguration", SERVICE_CONNECT),
        shows='"discoveryName": "web"',
    ),
    "<+targetGroupArn>": Probe(
        lambda p: p.files["service.yaml"].__setitem__(
            "loadBalancers",
            [{"targetGroupArn": "<+targetGroupArn>", "containerName": "app", "containerPort": 80}],
        )
    ),
    # ---- expressions ----
    "<+artifact.image>, <+artifacts.primary.image>": Probe(
        _image("<+artifacts.primary.image>"), shows="nginx:1.27"
    ),
    "<+artifact.tag>, <+artifact.imagePath>": Probe(
        _env_var("<+artifact.imagePath>/<+artifact.tag>"), shows="library/nginx/1.27"
    ),
    "<+artifact.metadata.image>": Probe(
        _env_var("<+artifact.metadata.image>"), shows='"value": "registry.hub.docker.com/library/nginx:1.27"'
    ),
    "<+lastPublished.tag>": Probe(
        _set("source.spec.tag", "<+lastPublished.tag>"), names="<+lastPublished.tag>"
    ),
    "an expression naming a variable that does not exist": Probe(
        _env_var("<+serviceVariables.nope>"), names="unresolved expression <+serviceVariables.nope>"
    ),
    "<+input>.default(x) in a manifest field": Probe(
        lambda p: p.files["service.yaml"].__setitem__("desiredCount", "<+input>.default(3)"),
        shows='"desiredCount": 3',
    ),
    "unknown fields in a step's spec": Probe(
        _pipeline("EcsRollingDeploy", {"sameAsAlreadyRunningInstance": True}),
        names="spec.sameAsAlreadyRunningInstance: unknown field",
    ),
    "<+primary.artifact.image>": Probe(
        _image("<+primary.artifact.image>"), shows="registry.hub.docker.com/library/nginx:1.27"
    ),
    "<+serviceVariables.NAME>": Probe(_env_var("port <+serviceVariables.port>"), shows="port 80"),
    "<+service.name>, <+service.identifier>": Probe(
        _env_var("<+service.name>/<+service.identifier>"), shows="web/web"
    ),
    "<+env.name>, <+env.identifier>, <+env.type>": Probe(
        _env_var("<+env.name> <+env.type>"), shows="dev PreProduction"
    ),
    "<+infra.cluster>, <+infra.region>, <+infra.connectorRef>": Probe(
        _env_var("<+infra.cluster> <+infra.region>"), shows="dev us-east-1"
    ),
    '<+secrets.getValue("id")>': Probe(_both(_extra(SECRET), _env_var('<+secrets.getValue("token")>'))),
    "<+pipeline.*>, <+stage.*>, <+execution.*>, <+trigger.*>": Probe(
        _env_var("run <+pipeline.sequenceId>"), shows="run 7", render_args=("--set", "pipeline.sequenceId=7")
    ),
    "<+account.identifier>, <+org.identifier>, <+project.identifier>": Probe(
        _env_var("<+project.identifier>/<+org.identifier>/<+account.identifier>"),
        shows="probe/default/corral",  # corral.yaml's defaults (docs/configuration.md)
    ),
    "<+provisioner.OUTPUT>": Probe(  # resolved when the stage runs: render shows it as written
        _both(
            _set("infra.spec.provisioner", "make"),
            _set("infra.spec.cluster", "<+provisioner.cluster_name>"),
            _provisioned([SCRIPT_PROVISION]),
        ),
        shows='"cluster": "<+provisioner.cluster_name>"',
    ),
    "string methods and operators": Probe(
        _env_var('<+service.name.toUpperCase() + "-" + env.name>'), shows="WEB-dev"
    ),
    # ---- pipeline steps ----
    "EcsRollingDeploy, EcsRollingRollback": Probe(_pipeline("EcsRollingDeploy", {})),
    "skipApplicationScaling": Probe(_pipeline("EcsRollingDeploy", {"skipApplicationScaling": True})),
    "EcsCanaryDeploy, EcsCanaryDelete": Probe(_pipeline("EcsCanaryDeploy", {})),
    "EcsBlueGreenCreateService, EcsBlueGreenSwapTargetGroups, EcsBlueGreenRollback": Probe(
        _pipeline(
            "EcsBlueGreenCreateService",
            {
                "loadBalancer": "lb",
                "prodListener": "arn:p",
                "prodListenerRuleArn": "arn:pr",
                "stageListener": "arn:s",
                "stageListenerRuleArn": "arn:sr",
            },
        )
    ),
    "EcsRunTask": Probe(_pipeline("EcsRunTask", {})),
    "EcsBlueGreenTrafficShift, EcsBlueGreenTrafficShiftRollback": Probe(
        _pipeline(
            "EcsBlueGreenTrafficShift",
            {
                "ecsTrafficShiftWrapper": {
                    "type": "Standalone",
                    "spec": {
                        "loadBalancer": "lb",
                        "listener": "arn:l",
                        "listenerRuleArn": "arn:r",
                        "forwardConfig": [{"targetGroupArn": "arn:tg", "weight": 50}],
                    },
                }
            },
        ),
        names="ecsTrafficShiftWrapper",
    ),
    "StandAloneTrafficShiftRollback": Probe(_pipeline("StandAloneTrafficShiftRollback", {})),
    "ecsTrafficShiftWrapper weight outside 0-100": Probe(
        _pipeline(
            "EcsBlueGreenTrafficShift",
            {"ecsTrafficShiftWrapper": {"type": "Inherit", "spec": {"weightPercentage": 150}}},
        ),
        names="spec.ecsTrafficShiftWrapper.spec.weightPercentage",
    ),
    "EcsBlueGreenCreateService isTrafficShift, stageTargetGroupArn": Probe(
        _pipeline(
            "EcsBlueGreenCreateService",
            {
                "loadBalancer": "lb",
                "prodListener": "arn:p",
                "prodListenerRuleArn": "arn:pr",
                "isTrafficShift": True,
                "stageTargetGroupArn": "arn:tg",
            },
        )
    ),
    "EcsServiceSetup, EcsUpgradeContainer, EcsBasicRollback": Probe(
        _pipeline(
            "EcsUpgradeContainer", {"newServiceInstanceCount": 50, "newServiceInstanceUnit": "Percentage"}
        )
    ),
    "EcsScale": Probe(
        _pipeline(
            "EcsScale",
            {"service": "backend", "cluster": "workers", "instanceUnit": "Count", "instances": 2},
        )
    ),
    "environment.provisioner (steps, rollbackSteps)": Probe(
        _provisioned([SCRIPT_PROVISION], [{**SCRIPT_PROVISION, "identifier": "unmake"}])
    ),
    "ShellScriptProvision": Probe(_provisioned([SCRIPT_PROVISION])),
    "CreateStack, DeleteStack, RollbackStack": Probe(
        _provisioned([CREATE_STACK, DELETE_STACK], [ROLLBACK_STACK])
    ),
    "TerraformPlan, TerraformApply, TerraformDestroy, TerraformRollback": Probe(
        _pipeline(
            "TerraformApply", {"provisionerIdentifier": "tf", "configuration": {"type": "InheritFromPlan"}}
        ),
        names="not available in this build",
    ),
    "Barrier": Probe(_pipeline("Barrier", {"barrierRef": "b"}), names="Barrier has no implementation"),
    "serviceInputs, environmentInputs, serviceOverrideInputs: <+input>": Probe(
        _stage(
            {"serviceRef": "web", "serviceInputs": "<+input>"},
            {"environmentInputs": "<+input>", "serviceOverrideInputs": "<+input>"},
        )
    ),
    "serviceInputs, environmentInputs, serviceOverrideInputs, infrastructureDefinitions[].inputs with values": Probe(
        _stage(
            {"serviceRef": "web", "serviceInputs": _tag_inputs("1.28")},
            {"infrastructureDefinitions": [{"identifier": "ecs", "inputs": {"spec": {"cluster": "blue"}}}]},
        ),
        setup=_runtime_tag_and_cluster,
        render_args=("--input", "tag=1.28", "--input", "cluster=blue"),  # render takes no pipeline
    ),
    "serviceRef, environmentRef, infrastructureDefinitions: <+input>": Probe(
        _stage(
            {"serviceRef": "<+input>"},
            {"environmentRef": "<+input>", "infrastructureDefinitions": "<+input>"},
        )
    ),
    "useFromStage": Probe(_stage({"serviceRef": "web"}, {}, second={"useFromStage": {"stage": "d"}})),
    "deployToAll: true": Probe(
        _stage({"serviceRef": "web"}, {"deployToAll": True, "infrastructureDefinitions": None})
    ),
    "strategy (matrix, repeat, parallelism)": Probe(_matrix),
    "K8sRollingDeploy (other deployment types)": Probe(
        _pipeline("K8sRollingDeploy", {}), names="K8sRollingDeploy"
    ),
    # ---- templates ----
    "template: documents (Step, StepGroup, Stage, Pipeline)": Probe(_template_kinds),
    "templateRef, versionLabel, templateInputs": Probe(_step_from_template("1", **WAIT_INPUTS)),
    "templateRef without versionLabel (Always use Stable)": Probe(_stable_version),
    "templateVariables, templateOverrides, gitBranch (template link)": Probe(
        _step_from_template("1", gitBranch="main"), names="gitBranch"
    ),
    "template type SecretManager, MonitoredService, ArtifactSource, CustomDeployment": Probe(
        _extra(_template("SecretManager", "vault", {})), names="SecretManager"
    ),
}
