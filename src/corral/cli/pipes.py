"""A reader that stops reading (`corral executions | head -1`) ends the command quietly: no
traceback, no "internal error", exit status 141 (128 + SIGPIPE) as a shell tool killed by the
signal would have."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import NoReturn

EXIT_BROKEN_PIPE = 141


def quiet_broken_pipe() -> NoReturn:
    # Python flushes stdout again at exit and would complain about the closed pipe there:
    # point stdout at /dev/null first
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    sys.exit(EXIT_BROKEN_PIPE)
