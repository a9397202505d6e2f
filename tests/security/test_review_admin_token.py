"""Review of issue 12, items 1 and 9: the admin token file. Every process on the machine can
read the server's command line (/proc/PID/cmdline), so a project admin's ShellScript step
finds the path given to --admin-token-file; a file others may read (an operator's
`echo TOKEN > admin-token`, mode 644) then gave the step the global admin token. The server
now refuses such a file, and a step cannot read a file of mode 600."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.server.helpers import ADMIN_TOKEN, free_port, pipeline, shell

from .isolation_helpers import step_messages
from .review_helpers import SOURCE, corral_server

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the server isolates steps only as root")

FIND_AND_READ = "\n".join(
    [
        "for f in /proc/[0-9]*/cmdline; do",
        "  words=$(tr '\\0' '\\n' < \"$f\" 2>/dev/null) || continue",
        "  path=$(printf '%s\\n' \"$words\" | grep -A1 -x -- --admin-token-file | tail -n +2)",
        '  [ -n "$path" ] && echo "FOUND $path" && { cat "$path" 2>/dev/null | rev || true; } && break',
        "done",
        "echo searched",
    ]
)


def test_a_token_file_others_may_read_is_refused(tmp_path: Path) -> None:
    token_file = tmp_path / "admin-token"
    token_file.write_text(ADMIN_TOKEN + "\n")
    token_file.chmod(0o644)
    command = [sys.executable, "-c", "from corral.cli.main import main; main()", "server"]
    command += ["--port", str(free_port()), "--data-dir", str(tmp_path / "data")]
    command += ["--admin-token-file", str(token_file)]
    env = {**os.environ, "PYTHONPATH": str(SOURCE)}
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("the server started with an admin token file every user may read")
    assert done.returncode == 2, done.stderr
    assert f"{token_file}: other users may read or change it (mode 644); chmod 600 it" in done.stderr
    assert ADMIN_TOKEN not in done.stderr and "Traceback" not in done.stderr


def test_a_step_finds_the_token_files_path_but_cannot_read_it() -> None:
    folder = Path(tempfile.mkdtemp(prefix="corral-review-"))
    folder.chmod(0o755)  # as /etc/corral is: every user may look inside
    try:
        _find_and_read(folder)
    finally:
        shutil.rmtree(folder)


def _find_and_read(folder: Path) -> None:
    with corral_server(folder) as admin:
        admin.post("/projects", {"name": "alpha"}, 201)
        mallory = admin.user("mallory", project="alpha", role="admin")
        mallory.put(
            "/projects/alpha/entities", {"yaml": pipeline("find", [shell("find", FIND_AND_READ)])}, 200
        )
        execution_id = mallory.post("/projects/alpha/pipelines/find/executions", {}, 202).json()["id"]
        assert mallory.wait(execution_id)["status"] == "Success"
        messages = step_messages(mallory, execution_id)
    assert f"FOUND {folder / 'admin-token'}" in messages  # /proc tells where it is...
    seen = "\n".join(messages)
    assert ADMIN_TOKEN not in seen and ADMIN_TOKEN[::-1] not in seen, messages  # ...not what it holds
