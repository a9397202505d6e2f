"""The pipeline commands keep `corral --help` and `corral run --help` cheap: nothing heavy is
imported with their modules; `corral validate` does without botocore's client machinery."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.session
from click.testing import CliRunner

from corral.cli.main import COMMANDS, cli
from corral.manifests import api_model
from corral.manifests.kinds import SPECS

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


def test_validate_imports_neither_botocore_nor_dulwich() -> None:
    """`corral validate` reads the AWS request shapes from botocore's model files; the Git and
    S3 stores (dulwich, botocore) load only for manifests kept there."""
    project = Path(__file__).resolve().parents[2] / "examples" / "ecs-tutorial"
    code = (
        "import sys\n"
        "from corral.cli.main import cli\n"
        f"cli(['validate', '--project', {str(project)!r}], standalone_mode=False)\n"
        "heavy = ('boto3', 'botocore', 'dulwich', 'rich', 'moto')\n"
        "print('imported:', ','.join(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok: ECS Tutorial")
    assert lines[-1] == "imported: "


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for name in COMMANDS:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage:" in result.output


def test_request_shapes_are_botocores() -> None:
    """The shapes read from the model files are the ones botocore itself resolves."""
    session = botocore.session.get_session()
    for spec in SPECS.values():
        ours = api_model.input_shape(spec.service, spec.operation)
        theirs = session.get_service_model(spec.service).operation_model(spec.operation).input_shape
        _same_shape(ours, theirs, (spec.operation,), set())


def _same_shape(ours: Any, theirs: Any, path: tuple[Any, ...], seen: set[str]) -> None:
    assert (ours.name, ours.type_name, type(ours).__name__) == (
        theirs.name,
        theirs.type_name,
        type(theirs).__name__,
    ), path
    assert ours.metadata == theirs.metadata, path
    assert list(ours.required_members) == list(theirs.required_members), path
    assert getattr(ours, "enum", None) == getattr(theirs, "enum", None), path
    assert getattr(ours, "is_document_type", False) == getattr(theirs, "is_document_type", False), path
    if ours.name in seen:  # recursive shapes: each one compared once
        return
    seen.add(ours.name)
    if ours.type_name == "structure":
        assert list(ours.members) == list(theirs.members), path
        for name in ours.members:
            _same_shape(ours.members[name], theirs.members[name], (*path, name), seen)
    elif ours.type_name == "list":
        _same_shape(ours.member, theirs.member, (*path, 0), seen)
    elif ours.type_name == "map":
        _same_shape(ours.key, theirs.key, (*path, "key"), seen)
        _same_shape(ours.value, theirs.value, (*path, "value"), seen)
