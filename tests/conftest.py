"""Suite-wide: the `--full` option of tests/reliability, and counts every CI log should show.

With pytest-xdist the corpus and property tests run in workers, whose own terminal summaries are
not printed; these hooks run in the controller too (it receives every report) and count there.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.chromium"]  # the one headless Chromium every browser test shares

COUNTED = {
    "bad-input corpus cases": "tests/test_bad_inputs.py::",
    "Harness corpus checks": "tests/test_harness_corpus.py::",
    "migration table rows": "tests/test_migration_doc.py::",
    "hypothesis property tests": "tests/expressions/test_properties.py::",
    "reliability scenarios": "tests/reliability/",
    "security attack replays": "tests/security/",
}
_passed = dict.fromkeys(COUNTED, 0)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--full", action="store_true", help="tests/reliability: run the whole fault matrix")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        for label, prefix in COUNTED.items():
            if report.nodeid.startswith(prefix):
                _passed[label] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and any(_passed.values()):
        terminalreporter.write_line("passed: " + ", ".join(f"{n} {label}" for label, n in _passed.items()))
