"""Sandbox test helpers: waiting (poll a predicate with short real sleeps until a deadline), Lambda zips."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    pass


def wait_until(
    predicate: Callable[[], T | None],
    *,
    timeout: float = 20.0,
    interval: float = 0.05,
    message: str = "condition",
) -> T:
    """Call `predicate` until it returns something truthy; return that value.

    Raises WaitTimeout (an AssertionError, so pytest shows it as a failure) with the last
    value seen once `timeout` real seconds have passed.
    """
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for {message}; last value: {last!r}")
        time.sleep(interval)


def python_zip(source: str, module: str = "app") -> bytes:
    """A Lambda deployment package (.zip) holding one Python module, `module.py`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{module}.py", source)
    return buffer.getvalue()
