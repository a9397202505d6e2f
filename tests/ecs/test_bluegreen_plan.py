"""The pure parts of Blue Green: which service is BLUE and how half states are repaired
(`plan_layout`), and the action-list helpers of the traffic-routing interface. No AWS."""

from __future__ import annotations

from typing import Any

import pytest

from corral.ecs.bluegreen import Found, plan_layout
from corral.ecs.listeners import forward_weights, live_groups, shares, with_forward
from corral.errors import DeploymentError

A = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-a/0000000000000001"
B = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-b/0000000000000002"
C = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-c/0000000000000003"


def forward(*groups: tuple[str, int]) -> list[dict[str, Any]]:
    """A forward action in the normal form ELBv2 answers with."""
    action: dict[str, Any] = {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": g, "Weight": w} for g, w in groups],
            "TargetGroupStickinessConfig": {"Enabled": False},
        },
    }
    if len(groups) == 1:
        action["TargetGroupArn"] = groups[0][0]
    return [action]


def service(group: str, version: str | None, status: str = "ACTIVE") -> dict[str, Any]:
    return {
        "status": status,
        "desiredCount": 2,
        "loadBalancers": [{"targetGroupArn": group, "containerName": "app", "containerPort": 80}],
        "tags": [{"key": "BG_VERSION", "value": version}] if version else [],
    }


def found(one: Any = None, two: Any = None, prod: Any = None, stage: Any = None, **extra: Any) -> Found:
    return Found(
        services={"web__1": one, "web__2": two},
        prod_actions=prod if prod is not None else forward((A, 1)),
        stage_actions=stage if stage is not None else forward((B, 1)),
        **extra,
    )


def test_first_deployment_creates_web__1_in_the_stage_group() -> None:
    plan = plan_layout("web", found())
    assert (plan.blue, plan.green, plan.prod_group, plan.stage_group) == (None, "web__1", A, B)
    assert plan.findings == [] and plan.retag == {}


def test_blue_is_the_service_production_reaches_and_the_other_suffix_is_green() -> None:
    plan = plan_layout("web", found(two=service(A, "BLUE"), one=service(B, "GREEN")))
    assert (plan.blue, plan.green, plan.stage_group) == ("web__2", "web__1", B)
    assert plan.findings == []


def test_an_untagged_live_service_is_tagged_blue_and_a_wrongly_tagged_one_green() -> None:
    plan = plan_layout("web", found(one=service(B, "BLUE"), two=service(A, None)))
    assert plan.blue == "web__2" and plan.retag == {"web__2": "BLUE", "web__1": "GREEN"}
    assert len(plan.findings) == 2


def test_listeners_both_on_the_new_group_send_stage_to_the_other_services_group() -> None:
    plan = plan_layout(
        "web",
        found(one=service(A, "BLUE"), two=service(B, "GREEN"), prod=forward((B, 1)), stage=forward((B, 1))),
    )
    assert (plan.blue, plan.green, plan.prod_group, plan.stage_group) == ("web__2", "web__1", B, A)
    assert forward_weights(plan.stage_actions or []) == {A: 1}
    assert any("interrupted swap" in f for f in plan.findings)


def test_a_deleted_service_still_names_its_target_group_for_the_repair() -> None:
    plan = plan_layout(
        "web", found(one=service(A, "BLUE"), two=service(B, "GREEN", "INACTIVE"), stage=forward((A, 1)))
    )
    assert plan.stage_group == B and plan.green == "web__2"


def test_split_production_traffic_goes_back_to_the_blue_group() -> None:
    prod = forward((A, 30), (B, 70))
    plan = plan_layout("web", found(one=service(A, "BLUE"), two=service(B, "GREEN"), prod=prod))
    assert plan.prod_group == A and forward_weights(plan.prod_actions) == {A: 1}
    shifted = plan_layout(
        "web",
        found(one=service(A, "BLUE"), two=service(B, "GREEN"), prod=prod, stage=None, traffic_shift=True),
    )
    assert forward_weights(shifted.prod_actions) == {A: 100, B: 0} and shifted.stage_group == B


def test_traffic_shift_adds_a_given_stage_group_at_weight_0_but_rollback_keeps_the_original() -> None:
    plan = plan_layout("web", found(one=service(A, "BLUE"), traffic_shift=True, stage_group=C))
    assert forward_weights(plan.prepared_prod_actions) == {A: 1, C: 0}
    assert plan.prod_actions == forward((A, 1))


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        (found(one=service(A, "BLUE"), two=service(A, "GREEN")), "Both web__1 and web__2 are registered"),
        (found(one=service(A, "BLUE"), stage=forward((A, 1))), "no other target group is known"),
        (found(one=service(A, "BLUE"), traffic_shift=True, stage_group=A), "is used by web__1"),
        (found(one=service(A, "BLUE"), traffic_shift=True), "give the stage target group"),
        (found(prod=forward((A, 0), (B, 0))), "sends no traffic anywhere"),
        (found(prod=[{"Type": "fixed-response"}]), "does not forward to a target group"),
    ],
)
def test_layouts_that_cannot_be_deployed_safely_are_refused(layout: Found, message: str) -> None:
    with pytest.raises(DeploymentError, match=message):
        plan_layout("web", layout)


def test_with_forward_keeps_other_actions_their_order_and_stickiness() -> None:
    auth = {"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": {"Issuer": "https://idp"}}
    sticky = {"Enabled": True, "DurationSeconds": 60}
    actions = [
        auth,
        {
            "Type": "forward",
            "Order": 2,
            "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": A}], "TargetGroupStickinessConfig": sticky},
        },
    ]
    weighted = with_forward(actions, {A: 75, B: 25})
    assert weighted[0] == auth
    assert weighted[1] == {
        "Type": "forward",
        "Order": 2,
        "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": A, "Weight": 75}, {"TargetGroupArn": B, "Weight": 25}],
            "TargetGroupStickinessConfig": sticky,
        },
    }
    assert with_forward(actions, {B: 1})[1] == {"Type": "forward", "TargetGroupArn": B, "Order": 2}
    assert actions[1]["ForwardConfig"]["TargetGroups"] == [{"TargetGroupArn": A}]  # input untouched


def test_weights_of_plain_and_weighted_forwards() -> None:
    assert forward_weights([{"Type": "forward", "TargetGroupArn": A}]) == {A: 1}
    assert live_groups(forward((A, 0), (B, 5))) == [B]
    assert shares({A: 1}) == shares({A: 100}) == {A: 1.0}
