"""Suite-wide: the `--full` option of tests/reliability, counts every CI log should show, no
skip that is not allowed, and every sandbox answer checked against botocore's output shapes.

With pytest-xdist the corpus and property tests run in workers, whose own terminal summaries are
not printed; these hooks run in the controller too (it receives every report) and count there.

A skipped test fails the run unless ALLOWED_SKIPS names it with why: a component missing on a
machine (PostgreSQL, the Temporal CLI, Chromium, docker-registry, root) must not pass as green.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from corral.sandbox.core import shape_check

# Every answer of the sandbox's emulated services is checked against botocore's output shape
# (a mismatch fails the call); set here, so `corral sandbox` processes the tests start check too.
os.environ.setdefault(shape_check.ENVIRONMENT_FLAG, "1")

pytest_plugins = ["tests.chromium"]  # the one headless Chromium every browser test shares

COUNTED = {
    "bad-input corpus cases": "tests/test_bad_inputs.py::",
    "Harness corpus checks": "tests/test_harness_corpus.py::",
    "migration table rows": "tests/test_migration_doc.py::",
    "hypothesis property tests": "tests/expressions/test_properties.py::",
    "reliability scenarios": "tests/reliability/test_matrix.py::",
    "security attack replays": "tests/security/",
}
_passed = dict.fromkeys(COUNTED, 0)

# node id prefix -> why its skip is expected (every other skip fails the run)
ALLOWED_SKIPS = {
    # NOT_A_VALIDATE_CHECK there: the Blue Green target port is checked when the step runs,
    # against the live target group; the case is kept so the corpus lists the problem
    "tests/test_bad_inputs.py::test_bad_input[manifests/bluegreen-target-port]": "checked at run time",
}
_unexpected_skips: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--full", action="store_true", help="tests/reliability: run the whole fault matrix")


@pytest.fixture(autouse=True)
def _sandbox_answers_match_botocore() -> Iterator[None]:
    """Fail a test whose sandbox gave an answer AWS would not, even if the code under test
    caught the failed call (the gateway records every mismatch it answers in this process)."""
    shape_check.RECORDED.take()
    yield
    found = shape_check.RECORDED.take()
    if found:
        pytest.fail("sandbox answers do not match botocore's output shapes:\n" + "\n".join(map(str, found)))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    allowed = any(report.nodeid.startswith(prefix) for prefix in ALLOWED_SKIPS)
    if report.skipped and not hasattr(report, "wasxfail") and not allowed:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _unexpected_skips.append(f"{report.nodeid}: {reason}")
    if report.when == "call" and report.passed:
        for label, prefix in COUNTED.items():
            if report.nodeid.startswith(prefix):
                _passed[label] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _unexpected_skips and not hasattr(session.config, "workerinput") and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and any(_passed.values()):
        terminalreporter.write_line("passed: " + ", ".join(f"{n} {label}" for label, n in _passed.items()))
    if _unexpected_skips and not hasattr(config, "workerinput"):
        terminalreporter.write_line(
            f"FAILED: {len(_unexpected_skips)} test(s) skipped that tests/conftest.py ALLOWED_SKIPS does not allow:",
            red=True,
        )
        for line in _unexpected_skips:
            terminalreporter.write_line(f"  {line}", red=True)
