"""The bad-input corpus: every folder under tests/bad_inputs/ that holds an expected.txt.

`corral validate` must reject each case with exit code 1, print no Python traceback, and
print what expected.txt says. Two kinds of case:

- project cases (tests/bad_inputs/config/): the folder is a project. Every line of
  expected.txt that is not a `#` comment must appear in the output (`file:line: path:
  message`, or any part of it).
- manifest cases (tests/bad_inputs/manifests/, with a `check:` line, see its README): the
  folder holds manifests. They are put in the file store of a small project (one service,
  one infrastructure, no artifact) and each expected problem must appear as the CLI prints
  it, the file now under `files/`. tests/manifests/test_bad_inputs.py checks the same cases
  against the library, exactly. A case whose `check:` line ends in `strict` is a warning
  (an unknown field, not sent to AWS): it is run as `corral validate --strict`.

The session ends with a summary line: `bad-input corpus: N cases`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from corral.cli.main import cli

CORPUS = Path(__file__).parent / "bad_inputs"
CASES = sorted(path.parent for path in CORPUS.rglob("expected.txt"))

# Manifest cases `corral validate` cannot express: why, and what is checked instead.
NOT_A_VALIDATE_CHECK = {
    # the target group's port is known only when the Blue Green step runs
    "target-port": "the Blue Green target port is checked when the step runs, against the live target group",
}
# Manifest cases where the project path words a problem differently from the library check:
# only `file: path` of the expected line must appear.
SAME_PLACE_OTHER_WORDS = {
    # rendering reports a FirstGen placeholder with no value as a placeholder, not an expression
    "task-firstgen-placeholders",
}

KIND_BY_STEM = {
    "task": "EcsTaskDefinition",
    "service": "EcsServiceDefinition",
    "run-task": "EcsRunTaskRequestDefinition",
    "target": "EcsScalableTargetDefinition",
    "policy": "EcsScalingPolicyDefinition",
}
PLAIN_TASK = """family: wrapper
containerDefinitions:
  - name: web
    image: nginx:1.25
    memory: 128
    portMappings:
      - containerPort: 80
"""


class _Count:
    def __init__(self) -> None:
        self.run = 0

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminalreporter.write_line(f"bad-input corpus: {self.run} cases")


@pytest.fixture(scope="module")
def counter(request: pytest.FixtureRequest) -> Iterator[_Count]:
    count = _Count()
    request.config.pluginmanager.register(count, "bad-input-corpus-count")
    yield count


def read_case(case: Path) -> tuple[list[str] | None, list[str]]:
    """(the `check:` words of a manifest case or None, the expected lines)."""
    lines = [
        line for line in (case / "expected.txt").read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    check = None
    expected = []
    for line in lines:
        if line.startswith("#"):
            continue
        if line.startswith("check:"):
            check = line.removeprefix("check:").split()
        else:
            expected.append(line)
    return check, expected


def run_validate(project: Path, *, strict: bool = False) -> tuple[int, str]:
    args = ["validate", "--project", str(project), *(["--strict"] if strict else [])]
    result = CliRunner().invoke(cli, args, catch_exceptions=True)
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, f"corral validate raised {result.exception!r}"
    return result.exit_code, result.output


def wrap_manifests(case: Path, check: list[str], into: Path) -> list[str]:
    """Build a project around a manifest case; returns the manifest kinds it declared."""
    action, args = check[0], check[1:]
    options = dict(arg.split("=", 1) for arg in args if "=" in arg)
    store = into / "files"
    store.mkdir(parents=True)
    manifests: list[tuple[str, str]] = []
    for path in sorted(case.iterdir()):
        if path.name == "expected.txt":
            continue
        shutil.copy(path, store / path.name)
        kind = args[0] if action == "validate" else KIND_BY_STEM.get(path.stem, "EcsTaskDefinition")
        manifests.append((kind, path.name))
    kinds = [kind for kind, _ in manifests]
    needs_task = {"EcsServiceDefinition", "EcsRunTaskRequestDefinition"} & set(kinds)
    if needs_task and "EcsTaskDefinition" not in kinds:
        (store / "_wrapper_task.yaml").write_text(PLAIN_TASK)
        manifests.append(("EcsTaskDefinition", "_wrapper_task.yaml"))
    entries = "".join(
        f"""        - manifest:
            identifier: m{index}
            type: {kind}
            spec:
              store:
                type: Harness
                spec:
                  files: ["{name}"]
"""
        for index, (kind, name) in enumerate(manifests)
    )
    infra_extra = "".join(
        f"    {key}: {options[option]}\n"
        for option, key in (("launch_type", "launchType"), ("execution_role_arn", "executionRoleArn"))
        if option in options
    )
    (into / "corral.yaml").write_text("project:\n  name: wrapped manifests\n")
    (into / "project.yaml").write_text(
        f"""connector:
  name: AWS
  identifier: aws
  type: Aws
  spec:
    credential:
      type: InheritFromDelegate
---
environment:
  name: Test
  identifier: test
  type: PreProduction
---
infrastructureDefinition:
  name: Test
  identifier: test
  environmentRef: test
  type: ECS
  spec:
    connectorRef: aws
    region: us-east-1
    cluster: test
{infra_extra}---
service:
  name: Case
  identifier: case
  serviceDefinition:
    type: ECS
    spec:
      manifests:
{entries}"""
    )
    return kinds


@pytest.mark.parametrize("case", CASES, ids=[str(c.relative_to(CORPUS)) for c in CASES])
def test_bad_input(case: Path, tmp_path: Path, counter: _Count) -> None:
    check, expected = read_case(case)
    assert expected, f"{case}: expected.txt names no problem"
    if check is not None and check[0] in NOT_A_VALIDATE_CHECK:
        counter.run += 1
        pytest.skip(NOT_A_VALIDATE_CHECK[check[0]])
    project = case
    if check is not None:
        project = tmp_path / "project"
        wrap_manifests(case, check, project)
        expected = [f"files/{line}" for line in expected]
        if case.name in SAME_PLACE_OTHER_WORDS:
            expected = [line.rsplit(": ", 1)[0] + ": " for line in expected]
    code, output = run_validate(project, strict=check is not None and "strict" in check)
    counter.run += 1
    assert "Traceback" not in output
    assert code == 1, f"expected exit code 1, got {code}:\n{output}"
    missing = [line for line in expected if line not in output]
    assert not missing, "not reported:\n  " + "\n  ".join(missing) + f"\noutput:\n{output}"


def test_corpus_size() -> None:
    config_cases = [case for case in CASES if case.parent.name == "config"]
    assert len(config_cases) >= 25
    assert len(CASES) >= 40
