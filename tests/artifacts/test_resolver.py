"""resolve_artifact: fixed tags without a network, <+input> tags, tagRegex, digest pinning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from corral.artifacts import RegistryUnauthorized, ResolvedArtifact, TagNotFound, resolve_artifact
from corral.errors import ConfigError
from corral.expressions import ExpressionContext, render

from .conftest import Filled
from .projects import registry_connector, service, source, write_project
from .registries import SpecRegistry

SPEC = "service.serviceDefinition.spec.artifacts.primary.sources[0].spec"


def real_project(tmp_path: Path, filled: Filled, **spec: str) -> object:
    registry = filled.registry
    spec.setdefault("imagePath", "team/web")
    return write_project(
        tmp_path,
        connectors=[registry_connector(registry.url, username=registry.username)],
        service_yaml=service(source(**spec)),
        password=registry.password,
    )


def problems(error: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return [str(p) for p in error.value.problems]


# -- no registry call ----------------------------------------------------------------------


def test_a_fixed_tag_makes_no_registry_call(tmp_path: Path) -> None:
    with SpecRegistry() as registry:
        project = write_project(
            tmp_path,
            connectors=[registry_connector(registry.url)],
            service_yaml=service(source(imagePath="team/web", tag="1.25")),
        )
        artifact = resolve_artifact(project, "web")
        assert registry.log == []
    host = registry.url.removeprefix("http://")
    assert artifact == ResolvedArtifact(
        identifier="web",
        type="DockerRegistry",
        connector_ref="registry",
        image=f"{host}/team/web:1.25",
        tag="1.25",
        image_path="team/web",
        digest=None,
        metadata={"image": f"{host}/team/web:1.25", "repository": f"{host}/team/web", "tag": "1.25"},
    )


def test_air_gapped_docker_hub_source(tmp_path: Path) -> None:
    """The tutorial's source: Docker Hub, library/nginx, a fixed tag; nothing is contacted
    (a call would fail here: tests reach no address beyond 127.0.0.1)."""
    project = write_project(
        tmp_path,
        connectors=[registry_connector("https://registry.hub.docker.com/v2/")],
        service_yaml=service(source(imagePath="nginx", tag="stable-perl")),
    )
    artifact = resolve_artifact(project, "web")
    assert artifact.image == "registry.hub.docker.com/library/nginx:stable-perl"
    assert artifact.image_path == "nginx"


def test_an_explicit_digest_pins_without_a_call(tmp_path: Path) -> None:
    digest = "sha256:" + "ab" * 32
    with SpecRegistry() as registry:
        project = write_project(
            tmp_path,
            connectors=[registry_connector(registry.url)],
            service_yaml=service(source(imagePath="team/web", tag="1.25", digest=digest)),
        )
        artifact = resolve_artifact(project, "web")
        assert registry.log == []
    assert artifact.image == f"{registry.url.removeprefix('http://')}/team/web@{digest}"
    assert (artifact.tag, artifact.digest) == ("1.25", digest)


def test_a_digest_alone(tmp_path: Path) -> None:
    digest = "sha256:" + "cd" * 32
    project = write_project(
        tmp_path,
        connectors=[registry_connector("https://registry.example.com")],
        service_yaml=service(source(imagePath="team/web", digest=digest)),
    )
    artifact = resolve_artifact(project, "web", offline=True)
    assert (artifact.image, artifact.tag) == (f"registry.example.com/team/web@{digest}", None)


def test_runtime_input_tag(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        connectors=[registry_connector("https://registry.example.com")],
        service_yaml=service(source(imagePath="team/web", tag="<+input>.allowedValues(1.24,1.25)")),
    )
    assert resolve_artifact(project, "web", inputs={"tag": "1.25"}, offline=True).tag == "1.25"
    assert resolve_artifact(project, "web", inputs={f"{SPEC}.tag": "1.24"}).image.endswith("/team/web:1.24")
    with pytest.raises(ConfigError) as missing:
        resolve_artifact(project, "web")
    assert problems(missing) == [
        f"service.yaml:16: {SPEC}.tag: missing required input: give --input {SPEC}.tag=VALUE; allowed values: 1.24, 1.25"
    ]
    with pytest.raises(ConfigError) as refused:
        resolve_artifact(project, "web", inputs={"tag": "2.0"})
    assert "'2.0' is not one of the allowed values: 1.24, 1.25" in str(refused.value)


def test_inputs_for_other_parts_of_the_service_are_not_asked_for(tmp_path: Path) -> None:
    variables = (
        "      variables:\n        - name: replicas\n          type: Number\n          value: <+input>\n"
    )
    project = write_project(
        tmp_path,
        connectors=[registry_connector("https://registry.example.com")],
        service_yaml=service(source(imagePath="team/web", tag="<+input>.default(3.1)"), variables=variables),
    )
    assert resolve_artifact(project, "web", inputs={"replicas": 2}).tag == "3.1"


def test_tag_from_a_service_variable_and_primary_artifact_ref_as_input(tmp_path: Path) -> None:
    variables = "      variables:\n        - name: version\n          type: String\n          value: '4.2'\n"
    sources = source("a", imagePath="team/a", tag="<+serviceVariables.version>") + source(
        "b", imagePath="team/b", tag="1"
    )
    project = write_project(
        tmp_path,
        connectors=[registry_connector("https://registry.example.com")],
        service_yaml=service(sources, primary="<+input>", variables=variables),
    )
    assert resolve_artifact(project, "web", inputs={"primaryArtifactRef": "a"}).image.endswith("team/a:4.2")
    assert resolve_artifact(project, "web", inputs={"primaryArtifactRef": "b"}).image.endswith("team/b:1")
    assert resolve_artifact(project, "web", "a", inputs={"primaryArtifactRef": "b"}).identifier == "a"
    with pytest.raises(ConfigError) as unknown:
        resolve_artifact(project, "web", "c", inputs={"primaryArtifactRef": "b"})
    assert problems(unknown) == ["--source: c: 'c' names no artifact source; expected one of a, b"]


# -- with a registry -----------------------------------------------------------------------


def test_tag_regex_picks_the_newest_match(tmp_path: Path, distribution: Filled) -> None:
    project = real_project(tmp_path, distribution, tagRegex=r"^1\.\d+$")
    artifact = resolve_artifact(project, "web")
    host = distribution.registry.url.removeprefix("http://")
    assert (artifact.tag, artifact.image) == ("1.9", f"{host}/team/web:1.9")  # newer than 1.10
    assert artifact.metadata["digest"] == distribution.web["1.9"].digest
    assert artifact.metadata["created"] == "2026-03-01T08:30:00.123456Z"
    assert artifact.metadata["labels"] == {"org.opencontainers.image.version": "1.9", "team": "web"}


def test_digest_pinning_resolves_the_tag(tmp_path: Path, distribution: Filled) -> None:
    project = real_project(tmp_path, distribution, tag="1.10", digest="resolve")
    artifact = resolve_artifact(project, "web")
    digest = distribution.web["1.10"].digest
    assert artifact.image == f"{distribution.registry.url.removeprefix('http://')}/team/web@{digest}"
    assert (artifact.tag, artifact.digest) == ("1.10", digest)


def test_digest_pinning_of_the_newest_oci_tag(tmp_path: Path, distribution: Filled) -> None:
    project = real_project(tmp_path, distribution, imagePath="team/oci", tagRegex="^v", digest="resolve")
    artifact = resolve_artifact(project, "web")
    assert artifact.image.endswith(f"/team/oci@{distribution.oci['v2'].digest}")
    assert artifact.metadata["mediaType"] == "application/vnd.oci.image.manifest.v1+json"


def test_expressions_read_the_resolved_artifact(tmp_path: Path, distribution: Filled) -> None:
    project = real_project(tmp_path, distribution, tagRegex=r"^1\.", digest="resolve")
    values = resolve_artifact(project, "web").expression_values()
    ctx = ExpressionContext(values={"artifacts": {"primary": values}})
    text = "<+artifact.imagePath> <+artifact.tag> <+artifact.digest> <+artifact.metadata.labels.team>"
    assert render(text, ctx) == f"team/web 1.9 {distribution.web['1.9'].digest} web"
    assert render("<+artifact.image>", ctx) == values["image"]


def test_offline_runs_say_which_field_needs_the_registry(tmp_path: Path) -> None:
    with SpecRegistry() as registry:
        project = write_project(
            tmp_path,
            connectors=[registry_connector(registry.url)],
            service_yaml=service(source(imagePath="team/web", tagRegex="^1")),
        )
        with pytest.raises(ConfigError) as regex:
            resolve_artifact(project, "web", offline=True)
        pinned = write_project(
            tmp_path,
            connectors=[registry_connector(registry.url)],
            service_yaml=service(source(imagePath="team/web", tag="1", digest="resolve")),
        )
        with pytest.raises(ConfigError) as digest:
            resolve_artifact(pinned, "web", offline=True)
        assert registry.log == []
    assert problems(regex) == [
        f"service.yaml:16: {SPEC}.tagRegex: picking a tag by regex needs a registry lookup; give the tag: "
        "--set artifact.tag=TAG"
    ]
    assert problems(digest) == [
        f"service.yaml:17: {SPEC}.digest: 'digest: resolve' needs a registry lookup; give the digest: "
        "--set artifact.digest=sha256:..."
    ]


def test_no_tag_matches(tmp_path: Path, distribution: Filled) -> None:
    project = real_project(tmp_path, distribution, tagRegex="^3")
    with pytest.raises(ConfigError) as caught:
        resolve_artifact(project, "web")
    host = distribution.registry.url.removeprefix("http://")
    assert problems(caught) == [f"service.yaml:15: {SPEC}.tagRegex: no tag of {host}/team/web matches '^3'"]


def test_pinning_a_tag_that_does_not_exist(tmp_path: Path, distribution: Filled) -> None:
    project = real_project(tmp_path, distribution, tag="9.9", digest="resolve")
    with pytest.raises(TagNotFound, match=re.escape("tag '9.9' not found in repository 'team/web'")):
        resolve_artifact(project, "web")


def test_wrong_password_from_the_connector(tmp_path: Path, distribution: Filled) -> None:
    registry = distribution.registry
    project = write_project(
        tmp_path,
        connectors=[registry_connector(registry.url, username=registry.username)],
        service_yaml=service(source(imagePath="team/web", tagRegex=".")),
        password="not-the-password-123",
    )
    with pytest.raises(RegistryUnauthorized) as caught:
        resolve_artifact(project, "web")
    assert "user 'deployer' was refused for repository 'team/web'" in str(caught.value)
    assert "not-the-password-123" not in str(caught.value)


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        (
            {"tagRegex": "^(1"},
            "tagRegex",
            "not a valid regular expression: missing ), unterminated subpattern",
        ),
        ({"tag": "1.0 beta"}, "tag", "'1.0 beta' is not a valid tag (letters, digits, _ . -; at most 128)"),
        ({"tag": "1", "digest": "sha256:abc"}, "digest", "expected sha256: and 64 hex digits, or 'resolve'"),
        ({"digest": "resolve"}, "digest", "'resolve' needs a tag or tagRegex to look the digest up"),
        ({"tag": "1", "imagePath": "Team/Web"}, "imagePath", "'Team' in imagePath 'Team/Web' is not a valid"),
        (
            {"tag": "1", "connectorRef": "aws"},
            "connectorRef",
            "a DockerRegistry source needs a DockerRegistry",
        ),
    ],
)
def test_spec_problems_name_file_and_field(
    tmp_path: Path, spec: dict[str, str], field: str, message: str
) -> None:
    aws = (
        "connector:\n  name: AWS\n  identifier: aws\n  type: Aws\n  spec:\n    credential:\n"
        "      type: InheritFromDelegate\n"
    )
    connector = spec.pop("connectorRef", "registry")
    spec.setdefault("imagePath", "team/web")
    project = write_project(
        tmp_path,
        connectors=[registry_connector("https://registry.example.com"), aws],
        service_yaml=service(source(connector=connector, **spec)),
        strict=False,  # loading reports a wrong connector type too; the resolver must as well
    )
    with pytest.raises(ConfigError) as caught:
        resolve_artifact(project, "web", offline=True)
    (problem,) = caught.value.problems
    assert problem.file.startswith("service.yaml:") and problem.path == f"{SPEC}.{field}"
    assert message in problem.message


def test_a_service_without_artifacts(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        connectors=[registry_connector("https://registry.example.com")],
        service_yaml="service:\n  name: Web\n  identifier: web\n  serviceDefinition:\n    type: ECS\n    spec: {}\n",
    )
    with pytest.raises(
        ConfigError,
        match=re.escape("service.serviceDefinition.spec.artifacts: the service has no artifact sources"),
    ):
        resolve_artifact(project, "web")
    with pytest.raises(ConfigError, match="service 'api' not found; the project has web"):
        resolve_artifact(project, "api")
