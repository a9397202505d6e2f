"""Artifact sources inside render_service: <+artifact.*> in manifests, lookups only when asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from corral.config import render_service
from corral.config.validation import validate_project
from corral.errors import ConfigError

from .conftest import Filled
from .projects import deployable_project, registry_connector, source
from .registries import SpecRegistry

SPEC = "service.serviceDefinition.spec.artifacts.primary.sources[0].spec"


def container(rendered: Any) -> dict[str, Any]:
    return dict(rendered.task_definition.request["containerDefinitions"][0])


def real(tmp_path: Path, filled: Filled, *environment: str, **spec: str) -> Any:
    registry = filled.registry
    return deployable_project(
        tmp_path,
        connector=registry_connector(registry.url, username=registry.username),
        source_yaml=source(**{"imagePath": "team/web", **spec}),
        password=registry.password,
        environment=environment,
    )


def test_tag_regex_is_resolved_when_lookups_are_on(tmp_path: Path, distribution: Filled) -> None:
    project = real(
        tmp_path, distribution, "TAG=<+artifact.tag>", "BUILT=<+artifact.metadata.created>", tagRegex=r"^1\."
    )
    rendered = render_service(project, "web", "dev", "ec2", registry_lookups=True)
    host = distribution.registry.url.removeprefix("http://")
    web = container(rendered)
    assert web["image"] == rendered.image == f"{host}/team/web:1.9"
    assert web["environment"] == [
        {"name": "TAG", "value": "1.9"},
        {"name": "BUILT", "value": "2026-03-01T08:30:00.123456Z"},
    ]


def test_digest_pinning_in_the_task_definition(tmp_path: Path, distribution: Filled) -> None:
    project = real(tmp_path, distribution, "DIGEST=<+artifact.digest>", tag="1.0", digest="resolve")
    rendered = render_service(project, "web", "dev", "ec2", registry_lookups=True)
    digest = distribution.web["1.0"].digest
    assert container(rendered)["image"].endswith(f"/team/web@{digest}")
    assert container(rendered)["environment"] == [{"name": "DIGEST", "value": digest}]


def test_an_explicit_digest_is_deployed_by_digest(tmp_path: Path) -> None:
    digest = "sha256:" + "9" * 64
    project = deployable_project(
        tmp_path,
        connector=registry_connector("https://registry.hub.docker.com/v2/"),
        source_yaml=source(imagePath="library/nginx", tag="1.27", digest=digest),
    )
    assert container(render_service(project, "web", "dev", "ec2"))["image"] == (
        f"registry.hub.docker.com/library/nginx@{digest}"
    )


def test_without_lookups_a_fixed_tag_renders_and_nothing_is_called(tmp_path: Path) -> None:
    with SpecRegistry() as registry:
        project = deployable_project(
            tmp_path,
            connector=registry_connector(registry.url),
            source_yaml=source(imagePath="team/web", tag="2.1"),
        )
        rendered = render_service(project, "web", "dev", "ec2")
        assert registry.log == []
    assert container(rendered)["image"] == f"{registry.url.removeprefix('http://')}/team/web:2.1"


def test_without_lookups_tag_regex_and_pinning_say_what_to_give(tmp_path: Path) -> None:
    with SpecRegistry() as registry:
        project = deployable_project(
            tmp_path,
            connector=registry_connector(registry.url),
            source_yaml=source(imagePath="team/web", tagRegex="^1", digest="resolve"),
        )
        with pytest.raises(ConfigError) as caught:
            render_service(project, "web", "dev", "ec2")
        pinned = render_service(
            project,
            "web",
            "dev",
            "ec2",
            sets={"artifact.tag": "1.2", "artifact.digest": "sha256:" + "e" * 64},
        )
        assert registry.log == []
    assert [p.path for p in caught.value.problems] == [f"{SPEC}.tagRegex"]
    assert container(pinned)["image"].endswith("/team/web@sha256:" + "e" * 64)


def test_validation_makes_no_call_and_finds_nothing_wrong(tmp_path: Path) -> None:
    with SpecRegistry() as registry:
        deployable_project(
            tmp_path,
            connector=registry_connector(registry.url),
            source_yaml=source(imagePath="team/web", tagRegex="^1", digest="resolve"),
        )
        report = validate_project(tmp_path)
        assert registry.log == []
    assert report.problems == []


def test_a_registry_failure_is_a_problem_of_the_source(tmp_path: Path, distribution: Filled) -> None:
    registry = distribution.registry
    project = deployable_project(
        tmp_path,
        connector=registry_connector(registry.url, username=registry.username),
        source_yaml=source(imagePath="team/web", tagRegex="^1"),
        password="bad-password-987",
    )
    with pytest.raises(ConfigError) as caught:
        render_service(project, "web", "dev", "ec2", registry_lookups=True)
    (problem,) = caught.value.problems
    assert problem.file == "service.yaml:22" and problem.path == SPEC
    assert "user 'deployer' was refused for repository 'team/web'" in problem.message
    assert "bad-password-987" not in str(caught.value)


def test_a_dangling_connector_is_reported_once(tmp_path: Path) -> None:
    deployable_project(
        tmp_path,
        connector=registry_connector("https://registry.example.com"),
        source_yaml=source(imagePath="team/web", tag="1", connector="nowhere"),
        strict=False,
    )
    problems = [str(p) for p in validate_project(tmp_path).problems]
    assert len(problems) == 1 and f"{SPEC}.connectorRef" in problems[0], problems
