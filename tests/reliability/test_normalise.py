"""The end-state normaliser replaces only times and generated ids; everything a user would notice
still differs."""

from __future__ import annotations

import datetime

from .normalise import ID, TIME, normalise, normalise_text

ACCOUNT = "arn:aws:elasticloadbalancing:us-east-1:123456789012"


def test_the_random_parts_of_arns_become_ids_and_names_stay() -> None:
    arns = {
        f"{ACCOUNT}:targetgroup/corral-blue/5066961b75207031": f"{ACCOUNT}:targetgroup/corral-blue/{ID}",
        f"{ACCOUNT}:listener-rule/app/corral/9c707608632ac5d8/7acf90f583b57a2c/766e6172a18fc4c2": (
            f"{ACCOUNT}:listener-rule/app/corral/{ID}/{ID}/{ID}"
        ),
        "arn:aws:ecs:us-east-1:123456789012:task/corral/2f753911ec534a0b879712e03fe6fadb": (
            f"arn:aws:ecs:us-east-1:123456789012:task/corral/{ID}"
        ),
        "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:a26c4c1a-9b3c-40f8-b521-579757f3563b"
        ":resource/ecs/service/corral/web__1:policyName/cpu60": (
            f"arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:{ID}"
            ":resource/ecs/service/corral/web__1:policyName/cpu60"
        ),
        "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-aur6lb95uo7iu9nc": (
            f"arn:aws:servicediscovery:us-east-1:123456789012:service/srv-{ID}"
        ),
    }
    for arn, expected in arns.items():
        assert normalise_text(arn) == expected


def test_the_random_suffix_of_names_cloudformation_makes_becomes_an_id() -> None:
    assert normalise_text("web-relea-Group-75LO5A9DYPBD") == f"web-relea-Group-{ID}"
    # twelve characters drawn from A-Z0-9 hold no digit about once in fifty names
    assert normalise_text("web-relea-Group-DRFPLBXENDSJ") == f"web-relea-Group-{ID}"
    assert normalise_text("SERVICE-UNAVAILABLE") == "SERVICE-UNAVAILABLE"


def test_deployment_and_network_ids_become_ids() -> None:
    assert normalise_text("ecs-svc/1195369153528194409") == f"ecs-svc/{ID}"
    assert normalise(["subnet-63445a852114c984d", "sg-0123abcd9876", "eni-ab3190f64ddf3ad41"]) == [
        f"subnet-{ID}",
        f"sg-{ID}",
        f"eni-{ID}",
    ]


def test_times_become_one_placeholder_at_any_depth() -> None:
    when = datetime.datetime(2026, 12, 7, 12, 16, tzinfo=datetime.UTC)
    state = {"deployments": [{"createdAt": when, "rolloutState": "COMPLETED"}]}

    assert normalise(state) == {"deployments": [{"createdAt": TIME, "rolloutState": "COMPLETED"}]}


def test_what_a_user_would_notice_is_kept() -> None:
    """Images, task definition revisions, counts, weights, short hex-looking names and states."""
    state = {
        "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:12",
        "image": "registry.example.com/web:deadbeef",
        "desiredCount": 2,
        "weights": {"corral-blue": 0, "corral-green": 100},
        "service": "web__cafe1234",
        "state": "draining",
    }

    assert normalise(state) == state


def test_two_runs_differing_only_in_ids_and_times_compare_equal_and_a_count_does_not() -> None:
    first = {
        "group": f"{ACCOUNT}:targetgroup/corral-blue/5066961b75207031",
        "at": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        "desiredCount": 2,
    }
    second = {
        "group": f"{ACCOUNT}:targetgroup/corral-blue/d6457992cbcb004e",
        "at": datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC),
        "desiredCount": 2,
    }

    assert normalise(first) == normalise(second)
    assert normalise(first) != normalise({**second, "desiredCount": 0})
    assert normalise(first) != normalise({**second, "group": second["group"].replace("blue", "green")})
