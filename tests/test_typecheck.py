"""CI type-checks src/ with mypy --strict (pyproject.toml [tool.mypy], run by scripts/test before
the suite): the configuration refuses untyped and mistyped code, and scripts/test stops on it.
The tree itself is checked by scripts/test, not here (a whole run takes ~20 s)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def mypy(path: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(cache),
            str(path),
        ],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_project_configuration_refuses_untyped_and_mistyped_code(tmp_path: Path) -> None:
    module = tmp_path / "sample.py"
    module.write_text('def untyped(value):\n    return value\n\n\ncount: int = "three"\n')
    result = mypy(module, tmp_path / "cache")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Function is missing a type annotation  [no-untyped-def]" in result.stdout  # strict
    assert 'expression has type "str", variable has type "int"' in result.stdout


def test_the_same_configuration_passes_typed_code(tmp_path: Path) -> None:
    module = tmp_path / "sample.py"
    module.write_text("def typed(value: int) -> int:\n    return value\n")
    result = mypy(module, tmp_path / "cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_scripts_test_type_checks_src_before_the_suite_and_stops_on_an_error() -> None:
    lines = [line.split("#")[0].strip() for line in (ROOT / "scripts/test").read_text().splitlines()]
    assert "set -euo pipefail" in lines  # a failing command ends the script with its status
    assert lines.index("python3 -m mypy") < next(i for i, line in enumerate(lines) if "pytest" in line)
