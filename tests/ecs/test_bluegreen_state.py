"""Blue Green's journaled state: typed in the code, the same camelCase keys in the journal, so an
execution journaled by an older Corral (the untyped dict of ecs/bluegreen.py) resumes. No AWS."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from corral.ecs.bluegreen import BlueGreenState
from corral.errors import DeploymentError

LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/corral/50dc6c495c0c9188"
LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/corral/50dc6c495c0c9188/f2f7dc8efc522ab2"
TG1 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/corral-blue/0000000000000001"
TG2 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/corral-green/0000000000000002"
REQUEST = {"cluster": "corral", "serviceName": "web__1", "taskDefinition": "arn:td:web:1", "desiredCount": 2}

# What the Swap Target Groups step of the single-module Blue Green wrote (its keys and values)
OLD_SWAP_JOURNAL: dict[str, Any] = {
    "cluster": "corral",
    "serviceName": "web",
    "loadBalancer": "corral",
    "blueServiceName": "web__1",
    "greenServiceName": "web__2",
    "prodRule": {
        "loadBalancerArn": LB,
        "listenerArn": LISTENER,
        "ruleArn": LISTENER + "/default",
        "isDefault": True,
    },
    "prodActions": [{"Type": "forward", "TargetGroupArn": TG1}],
    "stageRule": {
        "loadBalancerArn": LB,
        "listenerArn": LISTENER + "2",
        "ruleArn": "arn:rule2",
        "isDefault": True,
    },
    "stageActions": [{"Type": "forward", "TargetGroupArn": TG2}],
    "prodTargetGroupArn": TG1,
    "stageTargetGroupArn": TG2,
    "trafficShift": False,
    "blue": {
        "cluster": "corral",
        "serviceName": "web__1",
        "exists": True,
        "request": REQUEST,
        "scaling": {"targets": [{"MinCapacity": 2}], "policies": []},
        "status": "ACTIVE",
    },
    "blueDesiredCount": 2,
    "green": {
        "cluster": "corral",
        "serviceName": "web__2",
        "exists": False,
        "request": None,
        "scaling": {"targets": [], "policies": []},
        "status": "MISSING",
    },
    "greenAction": "replace",
    "deferredScaling": None,
    "swapStarted": True,
    "ecsDeployments": {"started": ["ecs-svc/123"], "starting": []},
}


def rewritten(journal: dict[str, Any]) -> dict[str, Any]:
    """The journal as it is written back: the same, but each service's scaling says that its
    scheduled actions were not captured (`None`; ecs/autoscaling.py's Scaling, for old journals)."""
    out = copy.deepcopy(journal)
    for key in ("blue", "green"):
        if out.get(key):
            out[key]["scaling"].setdefault("scheduledActions", None)
    return out


def test_an_old_journal_loads_typed_and_writes_back_the_same_keys_and_values() -> None:
    state = BlueGreenState.from_journal(copy.deepcopy(OLD_SWAP_JOURNAL))

    assert state.blue is not None and state.blue.request == REQUEST
    assert (state.blue_service_name, state.green_service_name, state.green_action) == (
        "web__1",
        "web__2",
        "replace",
    )
    assert state.prod_rule.is_default and state.stage_rule is not None
    assert state.swap_started and not state.prod_swapped and not state.traffic_shift_started
    assert state.deployed_pair == ["web__2", "web__1"]
    assert state.to_dict() == rewritten(OLD_SWAP_JOURNAL)
    assert BlueGreenState.from_journal(state.to_dict()) == state


def test_a_journal_of_create_service_before_its_green_action_lacks_later_keys() -> None:
    journal = {k: v for k, v in OLD_SWAP_JOURNAL.items() if k not in ("swapStarted", "ecsDeployments")}
    journal["greenAction"] = None
    state = BlueGreenState.from_journal(journal)
    assert state.green_action is None and state.standalone_rules == []
    assert state.to_dict() == rewritten(journal)


def test_a_step_after_create_service_needs_its_state() -> None:
    with pytest.raises(DeploymentError, match="needs an ECS Blue Green Create Service step before it"):
        BlueGreenState.require({}, "ECS Blue Green Swap Target")
    assert not BlueGreenState.in_journal({"standaloneRules": []})  # a Standalone shift alone
