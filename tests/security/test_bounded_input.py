"""Item 8 of issue 12: YAML alias expansion, document size and nesting depth are bounded in
the CLI and the API, with one clear error naming the file and the limit; request bodies over
the server's limit get 413; none of it hangs the server, which answers a health check at once.

Before: the alias bomb below hung `corral validate` and a server thread for good, a deep
`[[[[...` crashed the server process, and a 60 MB upload was read and parsed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.server.helpers import Api, Live, demo_project

from .paths_helpers import admin_fixture, live_fixture, mallory_fixture

FIXTURES = (live_fixture, admin_fixture, mallory_fixture)


def alias_bomb(levels: int = 9) -> str:
    """A pipeline whose ShellScript step spec holds a billion-laughs list (9**levels items)."""
    lines = ["                    l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"                    l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return (
        """pipeline:
  name: bomb
  identifier: bomb
  stages:
    - stage:
        name: Run
        identifier: run
        type: Custom
        spec:
          execution:
            steps:
              - step:
                  name: say
                  identifier: say
                  type: ShellScript
                  timeout: 1m
                  spec:
                    shell: Bash
                    source:
                      type: Inline
                      spec:
                        script: echo hi
"""
        + "\n".join(lines)
        + "\n"
    )


def deep_nesting(depth: int = 100_000) -> str:
    return (
        "environment:\n  name: Deep\n  identifier: deep\n  type: PreProduction\n  tags: "
        + "[" * depth
        + "]" * depth
    )


def healthy(live: Live) -> bool:
    return httpx.get(f"{live.url}/health", timeout=5).json() == {"status": "ok"}


def test_alias_bomb_in_a_step_spec_ends_corral_validate_with_the_limit_named(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "corral.yaml").write_text("project:\n  name: bomb\n")
    (project / "pipeline.yaml").write_text(alias_bomb())
    result = subprocess.run(
        [sys.executable, "-m", "corral.cli", "validate", "--project", str(project)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "pipeline.yaml:29: YAML refused: more than 1,000,000 values once aliases are expanded"
        in result.stdout
    )
    assert "(MAX_NODES)" in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_alias_bomb_and_deep_nesting_uploads_are_refused_and_the_server_answers(
    live: Live, mallory: Api, admin: Api
) -> None:
    for text, limit in [(alias_bomb(), "(MAX_NODES)"), (deep_nesting(), "(MAX_DEPTH)")]:
        response = mallory.call("PUT", "/projects/alpha/entities", json={"yaml": text})
        assert response.status_code == 422, response.text
        [problem] = response.json()["problems"]
        assert problem["file"].startswith("yaml:") and limit in problem["message"], problem
        assert healthy(live)
    created = admin.call("POST", "/projects", json={"name": "gamma", "yaml": alias_bomb()})
    assert created.status_code == 422 and "(MAX_NODES)" in created.text
    assert [p["name"] for p in admin.get("/projects")] == ["alpha", "beta"]


def test_a_60_mb_upload_gets_413_and_the_server_answers(live: Live, mallory: Api) -> None:
    body = b'{"yaml": "' + b"x" * (60 * 1024 * 1024) + b'"}'
    response = mallory.http.put(
        "/projects/alpha/entities", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text[:200]
    assert response.json()["detail"] == "request body too large: the limit is 8,388,608 bytes"
    assert healthy(live)


def test_a_body_without_content_length_is_cut_at_the_limit(live: Live, mallory: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"yaml": "'
        for _ in range(12):  # 12 MiB in 1 MiB chunks, sent chunked
            yield b"x" * (1024 * 1024)
        yield b'"}'

    response = mallory.http.put(
        "/projects/alpha/entities", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text[:200]
    assert healthy(live)
    assert mallory.get("/projects/alpha")["entities"] == {"environment": 2}


REPLACE_BOMB = '<+"a"' + '.replace("a", "aaaaaaaaaa")' * 9 + ".length()>"
REGEX_BOMB = '<+"' + "a" * 46 + '!".matches("(a|aa)+$")>'


def expression_pipeline(value: str) -> str:
    return f"""pipeline:
  name: big
  identifier: big
  variables:
    - name: big
      type: String
      value: '{value}'
  stages:
    - stage:
        name: Run
        identifier: run
        type: Custom
        spec:
          execution:
            steps:
              - step:
                  name: wait
                  identifier: wait
                  type: Wait
                  spec:
                    duration: 1s
"""


def test_expressions_that_would_grow_or_backtrack_for_ever_end_corral_run_with_the_limit(
    tmp_path: Path,
) -> None:
    for name, value, limit in [
        ("replace", REPLACE_BOMB, "the result of replace() would be 10,000,000 long; the limit is 1,000,000"),
        ("regex", REGEX_BOMB, "matches(): the regular expression ran longer than 0.5 s (REGEX_TIMEOUT)"),
    ]:
        project = tmp_path / name
        project.mkdir()
        (project / "corral.yaml").write_text("project:\n  name: expressions\n")
        (project / "pipeline.yaml").write_text(expression_pipeline(value))
        result = subprocess.run(
            [sys.executable, "-m", "corral.cli", "run", "big", "--project", str(project)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        output = result.stdout + result.stderr
        assert result.returncode != 0 and "Traceback" not in output, output
        assert f"pipeline.yaml: pipeline.variables[0].value: {limit}" in output, output


def test_an_expression_bomb_run_through_the_server_fails_and_the_server_answers(
    live: Live, admin: Api
) -> None:
    admin.post("/projects", {"name": "exprs", "yaml": expression_pipeline(REPLACE_BOMB)}, 201)
    response = admin.post("/projects/exprs/pipelines/big/executions", {})
    assert response.status_code == 422, response.text  # checked before the run starts
    [problem] = response.json()["problems"]
    assert problem["file"] == "pipeline/big.yaml" and problem["path"] == "pipeline.variables[0].value"
    assert problem["message"].endswith("the limit is 1,000,000 (MAX_VALUE_CHARS)")
    assert healthy(live)


def test_json_bodies_nested_too_deep_are_refused_before_any_route(live: Live, admin: Api) -> None:
    demo_project(admin)
    for depth in (900, 1_000_000):  # 900 was stored, then every answer showing it failed with 500
        nested = "[" * depth + "]" * depth
        response = admin.http.post(
            "/projects/demo/pipelines/hello/executions",
            content='{"inputs": {"who": ' + nested + "}}",
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 422, response.text[:200]
        assert (
            response.json()["detail"]
            == f"request body nested {depth + 2} levels deep; the limit is 100 (MAX_DEPTH)"
        )
    assert admin.get("/executions") == []
    assert healthy(live)
    # brackets inside strings are text, not nesting
    started = admin.post("/projects/demo/pipelines/hello/executions", {"inputs": {"who": "[" * 500}}, 202)
    assert "[" * 500 in admin.wait(started.json()["id"])["inputs"].values()


def test_an_upload_over_the_yaml_size_limit_is_refused_and_anchors_within_limits_work(mallory: Api) -> None:
    padding = "# " + "x" * 1000 + "\n"
    huge = "environment:\n  name: Big\n  identifier: big\n  type: PreProduction\n" + padding * 4200
    response = mallory.call("PUT", "/projects/alpha/entities", json={"yaml": huge})
    assert response.status_code == 422, response.text[:200]
    [problem] = response.json()["problems"]
    assert problem["file"] == "yaml" and "the limit is 4,194,304 (MAX_YAML_CHARS)" in problem["message"]
    anchored = """environment:
  name: &name Staging
  identifier: staging
  type: PreProduction
  description: *name
  tags:
    <<: &base {team: web, tier: "1"}
    tier: "2"
"""
    mallory.put("/projects/alpha/entities", {"yaml": anchored}, 200)
    staging = mallory.get("/projects/alpha/entities/environment/staging")["document"]["environment"]
    assert staging["tags"] == {"team": "web", "tier": "2"} and staging["description"] == "Staging"
