"""Runs the corpus of bad manifests in tests/bad_inputs/manifests/ (see its README)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from corral.errors import ConfigError, Problem
from corral.expressions import ExpressionContext, Mode, render
from corral.manifests import (
    ManifestFile,
    ManifestKind,
    check_ecs_rules,
    check_manifest,
    check_target_port,
    parse_manifest,
    to_api,
    validate_manifest,
)
from corral.manifests.text_rendering import KEEP, explain_parse_error, render_text

CORPUS = Path(__file__).parents[1] / "bad_inputs" / "manifests"
CASES = sorted(p for p in CORPUS.iterdir() if p.is_dir())


def read_expected(case: Path) -> tuple[list[str], list[str]]:
    lines = [line for line in (case / "expected.txt").read_text().splitlines() if line.strip()]
    assert lines[0].startswith("# ") and lines[1].startswith("check: "), (
        "expected.txt starts with # and check:"
    )
    return lines[1].removeprefix("check: ").split(), lines[2:]


def manifest(case: Path, stem: str | None = None) -> ManifestFile:
    files = [
        p for p in case.iterdir() if p.name not in ("expected.txt",) and (stem is None or p.stem == stem)
    ]
    assert len(files) == 1, f"{case.name}: expected one manifest file{f' named {stem}.*' if stem else ''}"
    return ManifestFile(source=files[0].name, text=files[0].read_text())


def clean_request(kind: ManifestKind, f: ManifestFile) -> dict[str, Any]:
    doc = parse_manifest(f)
    assert validate_manifest(kind, doc, source=f.source) == [], f"{f.source} must validate clean"
    return to_api(kind, doc, source=f.source)


def problems_of(case: Path, check: list[str]) -> list[Problem]:
    action, args = check[0], check[1:]
    if action == "parse":
        with pytest.raises(ConfigError) as caught:
            parse_manifest(manifest(case))
        return caught.value.problems
    if action == "validate":
        f = manifest(case)
        checked = check_manifest(ManifestKind(args[0]), parse_manifest(f), source=f.source)
        # `strict`: the case is a warning (an unknown field), an error with --strict
        return checked.problems + checked.warnings if "strict" in args[1:] else checked.problems
    if action == "rules":
        task, service = manifest(case, "task"), manifest(case, "service")
        options = dict(arg.split("=", 1) for arg in args)
        return check_ecs_rules(
            clean_request(ManifestKind.TASK_DEFINITION, task),
            clean_request(ManifestKind.SERVICE_DEFINITION, service),
            source_task=task.source,
            source_service=service.source,
            **options,
        )
    if action == "target-port":
        task = manifest(case, "task")
        with pytest.raises(ConfigError) as caught:
            check_target_port(
                clean_request(ManifestKind.TASK_DEFINITION, task), int(args[0]), args[1], source=task.source
            )
        return caught.value.problems
    if action == "render":
        return rendered_problems(manifest(case))
    raise AssertionError(f"{case.name}: unknown check {action!r}")


# what expressions read in the project tests/test_bad_inputs.py wraps a manifest case in
WRAPPER_VALUES = {
    "service": {"name": "Case", "identifier": "case"},
    "env": {"name": "Test", "identifier": "test"},
}


def rendered_problems(f: ManifestFile) -> list[Problem]:
    """Expressions rendered into the text, then the text parsed (manifests/text_rendering.py)."""

    def value(source: str) -> Any:
        result = render(source, ExpressionContext(values=WRAPPER_VALUES), mode=Mode.KEEP)
        return KEEP if result == source else result

    rendered = render_text(f, value)
    if rendered.problems:
        return rendered.problems
    try:
        parse_manifest(ManifestFile(f.source, rendered.text))
    except ConfigError as error:
        return explain_parse_error(error, f, rendered, ()).problems
    return []


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_manifest(case: Path) -> None:
    check, expected = read_expected(case)
    assert [str(p) for p in problems_of(case, check)] == expected
