"""For tests/security/test_isolation.py: a `corral server` process under another OS user,
and what a step left running."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.server.helpers import ADMIN_TOKEN, Api, free_port

SOURCE = Path(__file__).resolve().parents[2] / "src"
NOBODY = 65534


@contextmanager
def server_as_nobody(*flags: str) -> Iterator[Api]:
    """`corral server FLAGS` run as the unprivileged user nobody (setpriv, no groups), in a data
    folder of nobody's own; an admin's client for it."""
    data_dir = Path(tempfile.mkdtemp(prefix="corral-nobody-"))
    try:
        os.chown(data_dir, NOBODY, NOBODY)
        token_file = data_dir / "admin-token"
        token_file.write_text(ADMIN_TOKEN + "\n", encoding="utf-8")
        os.chown(token_file, NOBODY, NOBODY)
        os.chmod(token_file, 0o600)
        port = free_port()
        command = [
            *as_nobody(),
            sys.executable,
            "-c",
            "from corral.cli.main import main; main()",
            "server",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir / "data"),
            "--admin-token-file",
            str(token_file),
            *flags,
        ]
        env = {**os.environ, "PYTHONPATH": str(SOURCE), "HOME": str(data_dir)}
        with subprocess.Popen(
            command, env=env, cwd=data_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        ) as process:
            try:
                url = f"http://127.0.0.1:{port}"
                _wait_healthy(url, process)
                yield Api(url, ADMIN_TOKEN)
            finally:
                process.terminate()
                process.wait(10)
    finally:
        subprocess.run(["rm", "-rf", str(data_dir)], check=False)


def as_nobody() -> list[str]:
    """setpriv to nobody, no groups. Where this Python lives in a folder nobody cannot read (a
    pyenv under /root), the process keeps one capability, reading any file, so that it can load
    Python at all: it is still not root, which is all the server looks at."""
    plain = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
    probe = subprocess.run([*plain, sys.executable, "-c", "import click, fastapi, uvicorn"], check=False)
    if probe.returncode == 0:
        return plain
    return [*plain[:-1], "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search", "--"]


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"the server ended: {output}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not answer /health")


def processes_running(argument: str) -> list[int]:
    """Live processes (not zombies) with `argument` in their command line."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            words = Path(entry.path, "cmdline").read_bytes().split(b"\0")
            state = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if argument.encode() in words and state != "Z":
            found.append(int(entry.name))
    return found


def step_messages(api: Api, execution_id: str) -> list[str]:
    return [line["message"] for line in api.get(f"/executions/{execution_id}/logs")]


def wait_for_line(api: Api, execution_id: str, text: str, timeout: float = 30) -> None:
    """Until a log line of the execution reads `text` (a step got that far)."""
    deadline = time.monotonic() + timeout
    while text not in step_messages(api, execution_id):
        assert time.monotonic() < deadline, step_messages(api, execution_id)
        time.sleep(0.05)
