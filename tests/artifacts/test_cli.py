"""`corral artifacts SERVICE`: tags newest first with digests; table, plain lines, JSON."""

from __future__ import annotations

import json
from pathlib import Path

from corral.cli.artifacts_cmd import table

from .conftest import Filled
from .projects import corral, registry_connector, service, source, write_project


def project_dir(tmp_path: Path, filled: Filled, password: str | None = None, **spec: str) -> str:
    registry = filled.registry
    sources = source(**{"imagePath": "team/web", **spec}) + source("oci", imagePath="team/oci", tag="v1")
    write_project(
        tmp_path,
        connectors=[registry_connector(registry.url, username=registry.username)],
        service_yaml=service(sources),
        password=registry.password if password is None else password,
    )
    return str(tmp_path)


def test_plain_lines_newest_first_when_not_a_terminal(tmp_path: Path, distribution: Filled) -> None:
    result = corral("artifacts", "web", "--project", project_dir(tmp_path, distribution, tag="1.0"))
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.splitlines()]
    assert [line[0] for line in lines] == ["1.9", "2.0-rc1", "1.10", "1.0"]
    assert lines[0] == ["1.9", distribution.web["1.9"].digest, "2026-03-01T08:30:00.123456Z"]


def test_json_with_limit_and_another_source(tmp_path: Path, distribution: Filled) -> None:
    folder = project_dir(tmp_path, distribution, tag="1.0")
    result = corral("artifacts", "web", "--project", folder, "--source", "oci", "--limit", "1", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    host = distribution.registry.url.removeprefix("http://")
    assert {k: shown[k] for k in ("service", "source", "type", "repository")} == {
        "service": "web",
        "source": "oci",
        "type": "DockerRegistry",
        "repository": f"{host}/team/oci",
    }
    assert shown["tags"] == [
        {
            "tag": "v2",
            "digest": distribution.oci["v2"].digest,
            "created": "2026-05-01T00:00:00Z",
            "labels": {},
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "size": shown["tags"][0]["size"],
        }
    ]


def test_a_tag_regex_source_lists_what_it_matches(tmp_path: Path, distribution: Filled) -> None:
    folder = project_dir(tmp_path, distribution, tagRegex=r"^1\.1?0$")
    result = corral("artifacts", "web", "--project", folder, "--json")
    shown = json.loads(result.output)
    assert shown["tagRegex"] == r"^1\.1?0$"
    assert [t["tag"] for t in shown["tags"]] == ["1.10", "1.0"]


def test_the_terminal_table() -> None:
    rows = [
        {"tag": "1.9", "digest": "sha256:" + "a" * 64, "created": "2026-03-01T08:30:00.123456Z"},
        {"tag": "1.10-long", "digest": "sha256:" + "b" * 64, "created": None},
    ]
    assert table("127.0.0.1:5000/team/web", r"^1\.", rows).splitlines() == [
        r"127.0.0.1:5000/team/web: 2 tag(s) matching ^1\., newest first",
        "TAG        DIGEST               CREATED",
        "1.9        sha256:aaaaaaaaaaaa  2026-03-01 08:30:00Z",
        "1.10-long  sha256:bbbbbbbbbbbb  -",
    ]
    assert table("r/x", None, []) == "r/x: 0 tag(s), newest first"


def test_registry_errors_are_one_line_without_the_password(tmp_path: Path, distribution: Filled) -> None:
    folder = project_dir(tmp_path, distribution, password="wrong-pass-4567", tag="1.0")
    result = corral("artifacts", "web", "--project", folder)
    assert result.exit_code == 1
    assert "corral: registry 127.0.0.1:" in result.output
    assert "user 'deployer' was refused for repository 'team/web'" in result.output
    assert "wrong-pass-4567" not in result.output and distribution.registry.password not in result.output


def test_unknown_service_and_source(tmp_path: Path, distribution: Filled) -> None:
    folder = project_dir(tmp_path, distribution, tag="1.0")
    assert (
        "service 'api' not found; the project has web"
        in corral("artifacts", "api", "--project", folder).output
    )
    wrong = corral("artifacts", "web", "--project", folder, "--source", "nope")
    assert wrong.exit_code == 1
    assert "--source: nope: 'nope' names no artifact source; expected one of web, oci" in wrong.output
