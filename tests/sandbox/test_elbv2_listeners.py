"""ELBv2 listeners and rules: actions in AWS's normal form, replacement, priorities, validation."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox

from .test_elbv2_support import Stack, alb_stack, create_group, default_network, error_code


def forward(*weighted: tuple[str, int], sticky: int | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"TargetGroups": [{"TargetGroupArn": arn, "Weight": w} for arn, w in weighted]}
    if sticky is not None:
        config["TargetGroupStickinessConfig"] = {"Enabled": True, "DurationSeconds": sticky}
    return {"Type": "forward", "ForwardConfig": config}


def simple_forward_as_aws_returns_it(arn: str) -> dict[str, Any]:
    return {
        "Type": "forward",
        "TargetGroupArn": arn,
        "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": arn, "Weight": 1}],
            "TargetGroupStickinessConfig": {"Enabled": False},
        },
    }


def test_simple_forward_is_returned_with_its_forward_config(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    listener = stack.elb.describe_listeners(LoadBalancerArn=stack.lb_arn)["Listeners"][0]
    assert listener["ListenerArn"] == stack.listener_arn
    assert listener["ListenerArn"].startswith(stack.lb_arn.replace(":loadbalancer/", ":listener/") + "/")
    assert (listener["Port"], listener["Protocol"]) == (80, "HTTP")
    assert listener["DefaultActions"] == [simple_forward_as_aws_returns_it(stack.blue)]


def test_weighted_forward_round_trip_and_modify_replaces_the_action_list(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    elb = stack.elb
    weighted = forward((stack.blue, 90), (stack.green, 10), sticky=300)
    modified = elb.modify_listener(ListenerArn=stack.listener_arn, DefaultActions=[weighted])["Listeners"][0]
    expected = {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [
                {"TargetGroupArn": stack.blue, "Weight": 90},
                {"TargetGroupArn": stack.green, "Weight": 10},
            ],
            "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 300},
        },
    }
    assert modified["DefaultActions"] == [expected]
    described = elb.describe_listeners(ListenerArns=[stack.listener_arn])["Listeners"][0]
    assert described["DefaultActions"] == [expected]
    groups = {g["TargetGroupName"]: g for g in elb.describe_target_groups()["TargetGroups"]}
    assert groups["green"]["LoadBalancerArns"] == [stack.lb_arn], "weighted groups count as attached"

    # a whole new list replaces the old one: green alone, blue detached
    elb.modify_listener(ListenerArn=stack.listener_arn, DefaultActions=[forward((stack.green, 1))])
    after = elb.describe_listeners(ListenerArns=[stack.listener_arn])["Listeners"][0]["DefaultActions"]
    assert after == [simple_forward_as_aws_returns_it(stack.green)]
    groups = {g["TargetGroupName"]: g for g in elb.describe_target_groups()["TargetGroups"]}
    assert groups["blue"]["LoadBalancerArns"] == []


def test_fixed_response_and_redirect_actions(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    elb = stack.elb
    fixed = {
        "Type": "fixed-response",
        "FixedResponseConfig": {"StatusCode": "503", "ContentType": "text/plain", "MessageBody": "down"},
    }
    elb.modify_listener(ListenerArn=stack.listener_arn, DefaultActions=[fixed])
    actions = elb.describe_listeners(ListenerArns=[stack.listener_arn])["Listeners"][0]["DefaultActions"]
    assert actions == [fixed]
    redirect = elb.create_listener(
        LoadBalancerArn=stack.lb_arn,
        Port=8080,
        Protocol="HTTP",
        DefaultActions=[
            {
                "Type": "redirect",
                "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
            }
        ],
    )["Listeners"][0]["DefaultActions"][0]
    assert redirect["RedirectConfig"] == {
        "Protocol": "HTTPS",
        "Port": "443",
        "Host": "#{host}",
        "Path": "/#{path}",
        "Query": "#{query}",
        "StatusCode": "HTTP_301",
    }
    assert [lsn["Port"] for lsn in elb.describe_listeners(LoadBalancerArn=stack.lb_arn)["Listeners"]] == [
        80,
        8080,
    ]


def test_https_listener_keeps_its_certificate(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    certificate = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
    listener = stack.elb.create_listener(
        LoadBalancerArn=stack.lb_arn,
        Port=443,
        Protocol="HTTPS",
        Certificates=[{"CertificateArn": certificate}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": stack.green}],
    )["Listeners"][0]
    assert listener["Certificates"] == [{"CertificateArn": certificate}]
    assert listener["SslPolicy"] == "ELBSecurityPolicy-2016-08"
    with pytest.raises(ClientError) as no_certificate:
        stack.elb.create_listener(
            LoadBalancerArn=stack.lb_arn,
            Port=8443,
            Protocol="HTTPS",
            DefaultActions=[{"Type": "forward", "TargetGroupArn": stack.green}],
        )
    assert error_code(no_certificate) == "ValidationError"


def test_listener_validation(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    elb = stack.elb
    extra = [create_group(elb, stack.network, f"g{i}") for i in range(4)]
    tcp_group = create_group(elb, stack.network, "tcp", Protocol="TCP")
    six = forward(*[(arn, 1) for arn in [stack.blue, stack.green, *extra]])
    missing = stack.blue[:-16] + "0" * 16
    cases: list[tuple[dict[str, Any], str]] = [
        ({"Port": 80, "DefaultActions": [forward((stack.green, 1))]}, "DuplicateListener"),
        ({"Port": 81, "DefaultActions": [six]}, "ValidationError"),
        ({"Port": 81, "DefaultActions": [forward((missing, 1))]}, "TargetGroupNotFound"),
        (
            {"Port": 81, "DefaultActions": [{"Type": "forward", "TargetGroupArn": missing}]},
            "TargetGroupNotFound",
        ),
        ({"Port": 81, "DefaultActions": [forward((stack.blue, 1000))]}, "ValidationError"),
        ({"Port": 81, "DefaultActions": [forward((stack.blue, 1), (stack.blue, 2))]}, "ValidationError"),
        ({"Port": 81, "DefaultActions": [forward((tcp_group, 1))]}, "IncompatibleProtocols"),
        (
            {"Port": 81, "Protocol": "TCP", "DefaultActions": [forward((stack.blue, 1))]},
            "UnsupportedProtocol",
        ),
        (
            {
                "Port": 81,
                "DefaultActions": [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "302"}}],
            },
            "ValidationError",
        ),
    ]
    for params, code in cases:
        with pytest.raises(ClientError) as error:
            elb.create_listener(**{"LoadBalancerArn": stack.lb_arn, "Protocol": "HTTP", **params})
        assert error_code(error) == code, params
    # five target groups are the most an ALB forward action takes
    five = elb.create_listener(
        LoadBalancerArn=stack.lb_arn,
        Port=81,
        Protocol="HTTP",
        DefaultActions=[forward(*[(a, 1) for a in [stack.blue, stack.green, *extra[:3]]])],
    )["Listeners"][0]
    assert len(five["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]) == 5
    assert "TargetGroupArn" not in five["DefaultActions"][0]
    # the same settings on the same port: CreateListener is idempotent
    again = elb.create_listener(
        LoadBalancerArn=stack.lb_arn,
        Port=80,
        Protocol="HTTP",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": stack.blue}],
    )["Listeners"][0]
    assert again["ListenerArn"] == stack.listener_arn


def test_network_load_balancer_forwards_to_one_group(sandbox: Sandbox) -> None:
    elb = sandbox.client("elbv2")
    network = default_network(sandbox)
    lb = elb.create_load_balancer(Name="nlb", Type="network", Subnets=network.subnets[:1])["LoadBalancers"][0]
    a = create_group(elb, network, "a", Protocol="TCP")
    b = create_group(elb, network, "b", Protocol="TCP")
    with pytest.raises(ClientError) as two:
        elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"],
            Port=443,
            Protocol="TCP",
            DefaultActions=[forward((a, 1), (b, 1))],
        )
    assert error_code(two) == "ValidationError"
    listener = elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Port=443,
        Protocol="TCP",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": a}],
    )["Listeners"][0]
    with pytest.raises(ClientError) as rule:
        elb.create_rule(
            ListenerArn=listener["ListenerArn"],
            Priority=1,
            Conditions=[{"Field": "path-pattern", "Values": ["/x"]}],
            Actions=[{"Type": "forward", "TargetGroupArn": b}],
        )
    assert error_code(rule) == "InvalidConfigurationRequest"


def test_a_target_group_serves_one_load_balancer(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    other = stack.elb.create_load_balancer(Name="other", Subnets=stack.network.subnets[:2])["LoadBalancers"][
        0
    ]
    with pytest.raises(ClientError) as error:
        stack.elb.create_listener(
            LoadBalancerArn=other["LoadBalancerArn"],
            Port=80,
            Protocol="HTTP",
            DefaultActions=[{"Type": "forward", "TargetGroupArn": stack.blue}],
        )
    assert error_code(error) == "TargetGroupAssociationLimit"


def test_delete_listener(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    stack.elb.delete_listener(ListenerArn=stack.listener_arn)
    assert stack.elb.describe_listeners(LoadBalancerArn=stack.lb_arn)["Listeners"] == []
    with pytest.raises(ClientError) as gone:
        stack.elb.delete_listener(ListenerArn=stack.listener_arn)
    assert error_code(gone) == "ListenerNotFound"
    with pytest.raises(ClientError) as neither:
        stack.elb.describe_listeners()
    assert error_code(neither) == "ValidationError"


# ---------------------------------------------------------------- rules


def add_rule(stack: Stack, priority: int, path: str, target: str) -> str:
    return stack.elb.create_rule(
        ListenerArn=stack.listener_arn,
        Priority=priority,
        Conditions=[{"Field": "path-pattern", "Values": [path]}],
        Actions=[{"Type": "forward", "TargetGroupArn": target}],
    )["Rules"][0]["RuleArn"]


def test_rules_are_listed_by_priority_with_the_default_rule_last(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    elb = stack.elb
    second = add_rule(stack, 20, "/b/*", stack.green)
    first = add_rule(stack, 10, "/a/*", stack.green)
    rules = elb.describe_rules(ListenerArn=stack.listener_arn)["Rules"]
    assert [r["Priority"] for r in rules] == ["10", "20", "default"]
    assert [r["RuleArn"] for r in rules[:2]] == [first, second]
    assert first.startswith(stack.listener_arn.replace(":listener/", ":listener-rule/") + "/")
    default = rules[2]
    assert default["IsDefault"] is True and default["Conditions"] == []
    assert default["Actions"] == [simple_forward_as_aws_returns_it(stack.blue)]
    assert rules[0]["IsDefault"] is False
    assert rules[0]["Conditions"] == [
        {"Field": "path-pattern", "Values": ["/a/*"], "PathPatternConfig": {"Values": ["/a/*"]}}
    ]
    assert rules[0]["Actions"] == [simple_forward_as_aws_returns_it(stack.green)]
    by_arn = elb.describe_rules(RuleArns=[second])["Rules"]
    assert [r["Priority"] for r in by_arn] == ["20"]


def test_every_condition_kind(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    conditions = [
        {"Field": "host-header", "HostHeaderConfig": {"Values": ["api.example.com"]}},
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Canary", "Values": ["1"]}},
        {"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "v", "Value": "2"}]}},
        {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}},
        {"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8"]}},
    ]
    rule = stack.elb.create_rule(
        ListenerArn=stack.listener_arn,
        Priority=5,
        Conditions=conditions,
        Actions=[{"Type": "forward", "TargetGroupArn": stack.green}],
    )["Rules"][0]
    assert rule["Conditions"][0] == {
        "Field": "host-header",
        "Values": ["api.example.com"],
        "HostHeaderConfig": {"Values": ["api.example.com"]},
    }
    assert rule["Conditions"][1:] == conditions[1:]
    bad_conditions: list[list[dict[str, Any]]] = [
        [{"Field": "path-pattern", "Values": [f"/{i}" for i in range(6)]}],
        [{"Field": "source-ip", "SourceIpConfig": {"Values": ["not-a-cidr"]}}],
        [{"Field": "http-header", "Values": ["x"]}],
        [{"Field": "cookie", "Values": ["x"]}],
    ]
    for bad in bad_conditions:
        with pytest.raises(ClientError) as error:
            stack.elb.create_rule(
                ListenerArn=stack.listener_arn,
                Priority=6,
                Conditions=bad,
                Actions=[{"Type": "forward", "TargetGroupArn": stack.green}],
            )
        assert error_code(error) == "ValidationError", bad


def test_modify_rule_replaces_actions_and_conditions(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    elb = stack.elb
    rule_arn = add_rule(stack, 10, "/a/*", stack.green)
    changed = elb.modify_rule(RuleArn=rule_arn, Actions=[forward((stack.green, 80), (stack.blue, 20))])[
        "Rules"
    ][0]
    assert changed["Actions"][0]["ForwardConfig"]["TargetGroups"] == [
        {"TargetGroupArn": stack.green, "Weight": 80},
        {"TargetGroupArn": stack.blue, "Weight": 20},
    ]
    assert changed["Conditions"][0]["Values"] == ["/a/*"], "conditions untouched when not given"
    changed = elb.modify_rule(RuleArn=rule_arn, Conditions=[{"Field": "path-pattern", "Values": ["/b/*"]}])[
        "Rules"
    ][0]
    assert changed["Conditions"][0]["Values"] == ["/b/*"]
    assert len(changed["Actions"][0]["ForwardConfig"]["TargetGroups"]) == 2, (
        "actions untouched when not given"
    )

    # the default rule's actions are the listener's default actions
    default_arn = elb.describe_rules(ListenerArn=stack.listener_arn)["Rules"][-1]["RuleArn"]
    elb.modify_rule(RuleArn=default_arn, Actions=[{"Type": "forward", "TargetGroupArn": stack.green}])
    listener = elb.describe_listeners(ListenerArns=[stack.listener_arn])["Listeners"][0]
    assert listener["DefaultActions"] == [simple_forward_as_aws_returns_it(stack.green)]
    with pytest.raises(ClientError) as error:
        elb.modify_rule(RuleArn=default_arn, Conditions=[{"Field": "path-pattern", "Values": ["/"]}])
    assert error_code(error) == "OperationNotPermitted"


def test_priorities(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    elb = stack.elb
    a = add_rule(stack, 1, "/a", stack.green)
    b = add_rule(stack, 2, "/b", stack.green)
    with pytest.raises(ClientError) as taken:
        add_rule(stack, 1, "/c", stack.green)
    assert error_code(taken) == "PriorityInUse"
    with pytest.raises(ClientError) as out_of_range:
        add_rule(stack, 50001, "/c", stack.green)
    assert error_code(out_of_range) == "ValidationError"

    swapped = elb.set_rule_priorities(
        RulePriorities=[{"RuleArn": a, "Priority": 2}, {"RuleArn": b, "Priority": 1}]
    )
    assert {r["RuleArn"]: r["Priority"] for r in swapped["Rules"]} == {a: "2", b: "1"}
    assert [r["RuleArn"] for r in elb.describe_rules(ListenerArn=stack.listener_arn)["Rules"][:2]] == [b, a]
    with pytest.raises(ClientError) as clash:
        elb.set_rule_priorities(RulePriorities=[{"RuleArn": a, "Priority": 1}])
    assert error_code(clash) == "PriorityInUse"
    default_arn = elb.describe_rules(ListenerArn=stack.listener_arn)["Rules"][-1]["RuleArn"]
    with pytest.raises(ClientError) as default:
        elb.set_rule_priorities(RulePriorities=[{"RuleArn": default_arn, "Priority": 9}])
    assert error_code(default) == "OperationNotPermitted"


def test_delete_rule(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    elb = stack.elb
    rule_arn = add_rule(stack, 1, "/a", stack.green)
    with pytest.raises(ClientError) as in_use:
        elb.delete_target_group(TargetGroupArn=stack.green)
    assert error_code(in_use) == "ResourceInUse"
    elb.delete_rule(RuleArn=rule_arn)
    with pytest.raises(ClientError) as gone:
        elb.describe_rules(RuleArns=[rule_arn])
    assert error_code(gone) == "RuleNotFound"
    green = elb.describe_target_groups(TargetGroupArns=[stack.green])["TargetGroups"][0]
    assert green["LoadBalancerArns"] == []
    default_arn = elb.describe_rules(ListenerArn=stack.listener_arn)["Rules"][-1]["RuleArn"]
    with pytest.raises(ClientError) as default:
        elb.delete_rule(RuleArn=default_arn)
    assert error_code(default) == "OperationNotPermitted"
    elb.delete_target_group(TargetGroupArn=stack.green)
