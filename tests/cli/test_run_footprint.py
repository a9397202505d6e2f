"""What a real `corral run` keeps in memory (issue 17: 200 deployments in one process): the
store's migration machinery (Alembic, and with it Mako and Pygments) and the PostgreSQL dialect
are not loaded by a run on a SQLite store, neither a new one nor one already up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from corral.sandbox import Sandbox

DEMO = Path(__file__).resolve().parents[2] / "examples" / "sandbox-demo"
UNUSED = ("alembic", "mako", "pygments", "sqlalchemy.dialects.postgresql")

# `corral run` as the console script runs it, printing the imported modules as the process ends
WITH_MODULES = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('modules:', ' '.join(sorted(sys.modules))))\n"
    "from corral.cli.main import cli\n"
    "sys.argv = ['corral', *sys.argv[1:]]\n"
    "cli()\n"
)


def _run(*args: str) -> tuple[int, str, set[str]]:
    result = subprocess.run(
        [sys.executable, "-c", WITH_MODULES, "run", *args], capture_output=True, text=True, timeout=120
    )
    last = result.stdout.splitlines()[-1] if result.stdout else ""
    modules = set(last.removeprefix("modules: ").split()) if last.startswith("modules: ") else set()
    return result.returncode, result.stdout + result.stderr, modules


def test_corral_run_loads_no_migration_tools_nor_the_postgresql_dialect(
    sandbox: Sandbox, aws: list[str], tmp_path: Path
) -> None:
    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]
    for tag in ("1", "2"):  # a new store, then the same store at its current schema
        code, output, modules = _run(
            "demo_rolling", "--project", str(DEMO), *store, *aws, "--input", f"tag={tag}"
        )
        assert code == 0, output
        # the deployment went through the store and AWS in this very process
        assert {"sqlalchemy.dialects.sqlite", "botocore.client", "corral.ecs"} <= modules
        loaded = sorted(m for m in modules if m.split(".")[0] in UNUSED or m.startswith(UNUSED))
        assert loaded == [], f"tag {tag}: {loaded[:10]}"
