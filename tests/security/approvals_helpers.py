"""A project whose Production release waits for two approvers other than the person who ran
it (the gate the issue found opened by the executor alone), and its users."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.server.helpers import ENVIRONMENTS, Api, pipeline, shell

RELEASE_GATE: dict[str, Any] = {
    "step": {
        "name": "Release gate",
        "identifier": "gate",
        "type": "HarnessApproval",
        "timeout": "1h",
        "spec": {
            "approvalMessage": "Release to Production?",
            "approvers": {"userGroups": ["release"], "minimumCount": 2, "disallowPipelineExecutor": True},
            "approverInputs": [{"name": "ticket", "defaultValue": "none"}],
        },
    }
}
RELEASE = pipeline(
    "release",
    [
        RELEASE_GATE,
        shell("ship", 'echo "shipping for ticket <+execution.steps.gate.output.approverInputs.ticket>"'),
    ],
    environment="prod",
)


@dataclass
class Team:
    admin: Api
    ann: Api  # release group, deployer with the Production right: runs the release
    bob: Api  # release group, deployer with the Production right
    cat: Api  # release group, deployer with the Production right
    dan: Api  # release group, deployer WITHOUT the Production right
    eve: Api  # another group, deployer with the Production right


def release_team(admin: Api) -> Team:
    admin.post("/projects", {"name": "shop", "yaml": "---\n".join([ENVIRONMENTS, RELEASE])}, 201)

    def member(name: str, *, production: bool = True, groups: tuple[str, ...] = ("release",)) -> Api:
        return admin.user(name, project="shop", role="deployer", production=production, groups=list(groups))

    return Team(
        admin=admin,
        ann=member("ann"),
        bob=member("bob"),
        cat=member("cat"),
        dan=member("dan", production=False),
        eve=member("eve", groups=("dev",)),
    )


def start_release(team: Team) -> str:
    """Ann runs the release; it waits at the gate."""
    execution_id: str = team.ann.post("/projects/shop/pipelines/release/executions", {}, 202).json()["id"]
    team.admin.wait_approval(execution_id)
    return execution_id


def denials(admin: Api, actor: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = admin.get("/audit", params={"actor": actor, "action": "access.denied"})
    return entries
