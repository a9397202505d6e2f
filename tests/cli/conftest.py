"""Fixtures of the CLI tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from corral.aws.poller import PollPolicy
from corral.demo import pipeline_inputs, prepare_sandbox
from corral.sandbox import Sandbox
from corral.wiring.ecs_steps import set_poll_policy


@pytest.fixture
def aws(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The standard AWS settings pointed at the sandbox; yields the rolling pipeline's inputs
    as --input arguments."""
    for key, value in {
        "AWS_ENDPOINT_URL": sandbox.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    set_poll_policy(PollPolicy(fast=0.1, growth=1.5, slowest=0.4, min_gap=0.05))
    inputs = pipeline_inputs(prepare_sandbox(sandbox.endpoint_url), "demo_rolling")
    yield [arg for key, value in inputs.items() for arg in ("--input", f"{key}={value}")]
    set_poll_policy(None)
