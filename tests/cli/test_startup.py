"""The pipeline commands keep `corral --help` and `corral run --help` cheap: nothing heavy is
imported with their modules."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("boto3", "botocore", "pydantic", "sqlalchemy", "rich", "moto")


def test_command_modules_import_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "import corral.cli.run_cmd, corral.cli.execution_cmds, corral.cli.plan_cmd, corral.cli.demo_cmd\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_help_lists_the_pipeline_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "corral.cli", "--help"], capture_output=True, text=True, check=True
    )
    for name in ("run", "plan", "executions", "logs", "abort", "approve", "resume", "demo"):
        assert f"  {name} " in result.stdout
