"""Which leftovers of rendering count as unresolved expressions."""

from __future__ import annotations

import pytest

from corral.manifests.unresolved import find_unresolved


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("nginx:1.27", []),
        ("<+artifact.image>", ["<+artifact.image>"]),
        ("<+service.name>-<+env.name>", ["<+service.name>", "<+env.name>"]),
        ('<+secrets.getValue("<+env.name>_token")>', ['<+secrets.getValue("<+env.name>_token")>']),
        ("${DOCKER_IMAGE_NAME}", ["${DOCKER_IMAGE_NAME}"]),
        ("arn:${EXECUTION_ROLE} and <+x>", ["${EXECUTION_ROLE}", "<+x>"]),
        ("prefix <+never.closed", ["<+never.closed"]),
        ("a < b and $HOME and {x}", []),
    ],
)
def test_find_unresolved(text: str, found: list[str]) -> None:
    assert find_unresolved(text) == found
