"""The layer rules of design.md hold, and the check that CI runs (`lint-imports`, configured in
pyproject.toml) fails when code breaks one: a copy of the package with one forbidden import."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        ["lint-imports", "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_tree_keeps_every_layer_rule() -> None:
    result = lint_imports(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("engine/interpreter.py", "import corral.server.app", "the engine imports no ecs, aws"),
        ("ecs/rolling.py", "from corral.engine import steps", "ecs imports no engine"),
        ("sandbox/gateway.py", "import corral.config", "the sandbox imports no product code"),
    ],
)
def test_a_forbidden_import_fails_the_check(tmp_path: Path, module: str, line: str, contract: str) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "corral", src / "corral", ignore=shutil.ignore_patterns("__pycache__"))
    target = src / "corral" / module
    target.write_text(
        target.read_text(encoding="utf-8") + f"\n{line}  # breaks a layer rule\n", encoding="utf-8"
    )
    result = lint_imports(src)
    assert result.returncode != 0
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout
    assert module.replace("/", ".").removesuffix(".py") in result.stdout
