"""Overrides V2 documents (`overrides:` of the four Harness types, `serviceOverrides:`):
Harness's precedence, what `corral render` says set each value, and the errors for an
override that names nothing and for a document kind Corral does not know."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from corral.config import load_project, render_service
from corral.errors import ConfigError

from .helpers import ENVIRONMENT, TASK, corral, service_yaml, write_project

CORPUS = Path(__file__).parents[1] / "config" / "overrides_v2_project"
TAGGED_TASK = TASK + "tags:\n  - key: level\n    value: <+serviceVariables.level>\n"
VARIABLES = "      variables:\n        - name: level\n          type: String\n          value: service\n"
REFS = {
    "ENV_GLOBAL_OVERRIDE": "",
    "ENV_SERVICE_OVERRIDE": "  serviceRef: web\n",
    "INFRA_GLOBAL_OVERRIDE": "  infraIdentifier: fargate\n",
    "INFRA_SERVICE_OVERRIDE": "  serviceRef: web\n  infraIdentifier: fargate\n",
}


def document(kind: str, value: str, *, refs: str | None = None, scope: str = "") -> str:
    return (
        f"overrides:\n{scope}  environmentRef: dev\n{REFS[kind] if refs is None else refs}  type: {kind}\n"
        f"  spec:\n    variables:\n      - name: level\n        type: String\n        value: {value}\n"
    )


def project(root: Path, *documents: str) -> Path:
    files = {f"overrides/{index}.yaml": text for index, text in enumerate(documents)}
    return write_project(
        root, {"service.yaml": service_yaml(variables=VARIABLES), "files/web/task.yaml": TAGGED_TASK, **files}
    )


def level(root: Path) -> str:
    rendered = render_service(load_project(root), "web", "dev", "fargate")
    return str(rendered.task_definition.request["tags"][0]["value"])  # type: ignore[union-attr]


def render_yaml(root: Path, service: str, env: str, infra: str) -> dict:
    result = corral("render", "--project", str(root), "--service", service, "--env", env, "--infra", infra)
    assert result.exit_code == 0, result.output
    return yaml.safe_load(result.output)


def test_render_shows_each_value_from_the_highest_precedence_and_names_its_source() -> None:
    out = render_yaml(CORPUS, "demo_web", "sandbox", "sandbox")
    task = out["taskDefinition"]
    env = {e["name"]: e["value"] for e in task["request"]["containerDefinitions"][0]["environment"]}
    assert env["GREETING"] == "from ENV_GLOBAL_OVERRIDE"  # only the global environment override sets it
    assert env["TIER"] == "from ENV_SERVICE_OVERRIDE"  # service specific beats global environment
    assert env["LEVEL"] == "from INFRA_SERVICE_OVERRIDE"  # set by all four: the highest wins
    assert env["APP_CONFIG"] == "bW9kZT1pbmZyYXN0cnVjdHVyZQo="  # base64 of the infrastructure's file
    assert env["TASK_DEFINITION_FROM"] == "INFRA_SERVICE_OVERRIDE"
    assert task["source"] == "files/account/web/InfraServiceTaskDefinition.yaml"
    assert task["request"]["memory"] == "1024"
    assert out["serviceDefinition"]["request"]["desiredCount"] == 3
    set_by = out["setBy"]
    assert set_by["serviceVariables.greeting"] == "ENV_GLOBAL_OVERRIDE sandbox (overrides/env-global.yaml:12)"
    assert set_by["serviceVariables.tier"].startswith(
        "ENV_SERVICE_OVERRIDE sandbox_demo_web (overrides/env-service.yaml:"
    )
    assert set_by["serviceVariables.replicas"].startswith("INFRA_SERVICE_OVERRIDE sandbox_demo_web_sandbox (")
    assert set_by["manifests.task_def (EcsTaskDefinition)"].startswith("INFRA_SERVICE_OVERRIDE")
    assert set_by["manifests.service_def (EcsServiceDefinition)"] == "service (services/web.yaml:21)"
    assert set_by["configFiles.app_config"].startswith(
        "INFRA_GLOBAL_OVERRIDE sandbox_sandbox (overrides/infra-global.yaml:"
    )


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        ((), "service"),
        (("ENV_GLOBAL_OVERRIDE",), "ENV_GLOBAL_OVERRIDE"),
        (("ENV_SERVICE_OVERRIDE", "ENV_GLOBAL_OVERRIDE"), "ENV_SERVICE_OVERRIDE"),
        (("INFRA_GLOBAL_OVERRIDE", "ENV_SERVICE_OVERRIDE", "ENV_GLOBAL_OVERRIDE"), "INFRA_GLOBAL_OVERRIDE"),
        (
            (
                "INFRA_SERVICE_OVERRIDE",
                "INFRA_GLOBAL_OVERRIDE",
                "ENV_SERVICE_OVERRIDE",
                "ENV_GLOBAL_OVERRIDE",
            ),
            "INFRA_SERVICE_OVERRIDE",
        ),
        (("ENV_GLOBAL_OVERRIDE", "INFRA_SERVICE_OVERRIDE"), "INFRA_SERVICE_OVERRIDE"),
    ],
)
def test_precedence_does_not_depend_on_file_order(
    tmp_path: Path, kinds: tuple[str, ...], expected: str
) -> None:
    project(tmp_path, *(document(kind, kind) for kind in kinds))  # files in the order given
    assert level(tmp_path) == expected


def test_documents_and_inline_overrides_of_one_type_apply_inline_first(tmp_path: Path) -> None:
    env_head, infra = ENVIRONMENT.split("---\n")
    inline = (
        "  overrides:\n    variables:\n      - name: level\n        type: String\n        value: inline\n"
    )
    project(tmp_path, document("ENV_GLOBAL_OVERRIDE", "document"))
    write_project(tmp_path, {"environment.yaml": env_head + inline + "---\n" + infra}, base=False)
    assert level(tmp_path) == "document"
    # an inline infrastructure override still beats any environment level document
    write_project(tmp_path, {"environment.yaml": env_head + "---\n" + infra + inline}, base=False)
    assert level(tmp_path) == "inline"


def test_serviceoverrides_document_is_service_specific_and_the_project_beats_the_organization(
    tmp_path: Path,
) -> None:
    v1 = (
        "serviceOverrides:\n  environmentRef: dev\n  serviceRef: web\n  variables:\n"
        "    - name: level\n      type: String\n      value: serviceOverrides\n"
    )
    org = document("ENV_SERVICE_OVERRIDE", "organization", scope="  orgIdentifier: default\n")
    project(tmp_path, v1, org, document("ENV_GLOBAL_OVERRIDE", "global"))
    assert level(tmp_path) == "serviceOverrides"
    other_service = v1.replace("serviceRef: web", "serviceRef: api")
    api = service_yaml(variables=VARIABLES).replace("identifier: web", "identifier: api")
    project(tmp_path, other_service, org)
    write_project(tmp_path, {"api.yaml": api}, base=False)
    assert level(tmp_path) == "organization"  # another service's override does not apply


def config_files(path: str, indent: str) -> str:
    return "".join(
        indent + line + "\n"
        for line in (
            "configFiles:",
            "  - configFile:",
            "      identifier: app",
            "      spec:",
            "        store:",
            "          type: Harness",
            "          spec:",
            f"            files: [{path}]",
        )
    )


def test_config_file_override_replaces_the_whole_file(tmp_path: Path) -> None:
    task = TASK + 'tags:\n  - key: conf\n    value: <+configFile.getAsString("app")>\n'
    write_project(tmp_path, {
        "service.yaml": service_yaml(variables=VARIABLES + config_files("conf/service.txt", "      ")),
        "files/web/task.yaml": task,
        "files/conf/service.txt": "service-config",
        "files/conf/infra.txt": "infra-config",
    })  # fmt: skip
    rendered = render_service(load_project(tmp_path), "web", "dev", "fargate")
    assert rendered.task_definition.request["tags"][0]["value"] == "service-config"  # type: ignore[union-attr]
    infra_doc = document("INFRA_GLOBAL_OVERRIDE", "x") + config_files("conf/infra.txt", "    ")
    write_project(tmp_path, {"overrides.yaml": infra_doc}, base=False)
    rendered = render_service(load_project(tmp_path), "web", "dev", "fargate")
    assert rendered.task_definition.request["tags"][0]["value"] == "infra-config"  # type: ignore[union-attr]
    assert rendered.set_by["configFiles.app"] == "INFRA_GLOBAL_OVERRIDE dev_fargate (overrides.yaml:11)"


def problems_of(root: Path) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load_project(root)
    return [f"{p.file}: {p.path}: {p.message}" for p in error.value.problems]


@pytest.mark.parametrize(
    ("refs", "expected"),
    [
        (
            "  serviceRef: wbe\n",
            "overrides/0.yaml:3: overrides.serviceRef: service 'wbe' not found; did you mean 'web'?",
        ),
        (
            "  infraIdentifier: ec2\n",
            "overrides/0.yaml:3: overrides.infraIdentifier: infrastructure of 'dev' 'ec2' not found; the project has fargate",
        ),
    ],
)
def test_an_override_that_names_nothing_is_an_error(tmp_path: Path, refs: str, expected: str) -> None:
    kind = "ENV_SERVICE_OVERRIDE" if "serviceRef" in refs else "INFRA_GLOBAL_OVERRIDE"
    project(tmp_path, document(kind, "x", refs=refs))
    assert problems_of(tmp_path) == [expected]


def test_an_override_of_an_unknown_environment_is_an_error(tmp_path: Path) -> None:
    project(
        tmp_path, document("ENV_GLOBAL_OVERRIDE", "x").replace("environmentRef: dev", "environmentRef: prod")
    )
    assert problems_of(tmp_path) == [
        "overrides/0.yaml:2: overrides.environmentRef: environment 'prod' not found; the project has dev"
    ]


def test_references_must_fit_the_type_and_one_document_per_target(tmp_path: Path) -> None:
    project(tmp_path, document("INFRA_SERVICE_OVERRIDE", "x", refs="  serviceRef: web\n"))
    assert problems_of(tmp_path) == [
        "overrides/0.yaml:1: overrides.infraIdentifier: required for type INFRA_SERVICE_OVERRIDE "
        "(Service & Infrastructure Specific)"
    ]
    shutil.rmtree(tmp_path / "overrides")
    project(tmp_path, document("ENV_GLOBAL_OVERRIDE", "a"), document("ENV_GLOBAL_OVERRIDE", "b"))
    (problem,) = problems_of(tmp_path)
    assert problem.startswith("overrides/1.yaml:1: overrides: a second ENV_GLOBAL_OVERRIDE for the same ")
    assert "already defined in overrides/0.yaml:1" in problem


def test_a_document_kind_corral_does_not_know_is_an_error_naming_it(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "user-group.yaml": "userGroup:\n  name: Deployers\n  identifier: deployers\n",
        "odd.yaml": "featureFlag:\n  identifier: x\n",
        "not-corral/task.yaml": TASK,  # a manifest outside files/: several top-level keys, not an entity
    })  # fmt: skip
    problems = problems_of(tmp_path)
    assert problems[0].startswith(
        "odd.yaml:1: featureFlag: unknown kind 'featureFlag': Corral knows service,"
    )
    assert problems[1] == (
        "user-group.yaml:1: userGroup: unsupported kind 'userGroup': user groups are not part of Corral "
        "(approvals name their approvers directly)"
    )
    assert len(problems) == 2


def test_a_runtime_input_in_an_override_document_is_refused(tmp_path: Path) -> None:
    project(tmp_path, document("INFRA_GLOBAL_OVERRIDE", "<+input>"))
    (problem,) = problems_of(tmp_path)
    assert problem.startswith(
        "overrides/0.yaml:9: overrides.spec.variables[0].value: runtime inputs (<+input>) are not supported"
    )


def test_ls_lists_override_documents_with_type_and_target() -> None:
    result = corral("ls", "overrides", "--project", str(CORPUS), "--format", "json")
    rows = {row["identifier"]: row for row in json.loads(result.output)}
    assert rows["sandbox_demo_web_sandbox"]["detail"] == (
        "INFRA_SERVICE_OVERRIDE env=sandbox service=demo_web infra=sandbox"
    )
    assert set(rows) == {"sandbox", "sandbox_sandbox", "sandbox_demo_web_sandbox"}  # serviceOverrides: apart
