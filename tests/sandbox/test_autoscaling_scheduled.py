"""Application Auto Scaling scheduled actions: put, describe, delete, and runs on the sandbox clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox

from .test_autoscaling import DIMENSION, create_ecs_service, error_code, register, the_target

RID = "service/apps/web"
# sandbox time moves only by `advance` here (speed 1: a test's real seconds are not hours)
pytestmark = pytest.mark.sandbox(speed=1)


@pytest.fixture
def aas(sandbox: Sandbox) -> Any:
    create_ecs_service(sandbox, "apps", "web", desired=2)
    client = sandbox.client("application-autoscaling")
    register(client, MinCapacity=1, MaxCapacity=4)
    return client


def put(aas: Any, name: str, schedule: str, **extra: Any) -> None:
    aas.put_scheduled_action(
        ServiceNamespace="ecs",
        ResourceId=RID,
        ScalableDimension=DIMENSION,
        ScheduledActionName=name,
        Schedule=schedule,
        **extra,
    )


def actions(aas: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = aas.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=RID)[
        "ScheduledActions"
    ]
    return found


def sandbox_now(sandbox: Sandbox) -> dt.datetime:
    return dt.datetime.fromtimestamp(sandbox.admin.advance(0), tz=dt.UTC)


def desired(sandbox: Sandbox) -> int:
    (service,) = sandbox.client("ecs").describe_services(cluster="apps", services=["web"])["services"]
    return int(service["desiredCount"])


def test_put_describe_replace_and_delete(aas: Any) -> None:
    put(
        aas,
        "night",
        "cron(0 22 ? * MON-FRI *)",
        Timezone="Europe/Paris",
        StartTime=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        ScalableTargetAction={"MinCapacity": 0, "MaxCapacity": 1},
    )
    (night,) = actions(aas)
    assert night["Schedule"] == "cron(0 22 ? * MON-FRI *)"
    assert night["Timezone"] == "Europe/Paris"
    assert night["ScalableTargetAction"] == {"MinCapacity": 0, "MaxCapacity": 1}
    assert night["ScheduledActionARN"].endswith(f":resource/ecs/{RID}:scheduledActionName/night")
    assert night["StartTime"] == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    # putting it again updates what it names; left out, StartTime/EndTime are deleted, the rest kept
    aas.put_scheduled_action(
        ServiceNamespace="ecs",
        ResourceId=RID,
        ScalableDimension=DIMENSION,
        ScheduledActionName="night",
        ScalableTargetAction={"MaxCapacity": 2},
    )
    (again,) = actions(aas)
    assert again["ScheduledActionARN"] == night["ScheduledActionARN"]
    assert (again["Schedule"], again["Timezone"]) == ("cron(0 22 ? * MON-FRI *)", "Europe/Paris")
    assert again["ScalableTargetAction"] == {"MaxCapacity": 2}
    assert "StartTime" not in again
    aas.delete_scheduled_action(
        ServiceNamespace="ecs", ResourceId=RID, ScalableDimension=DIMENSION, ScheduledActionName="night"
    )
    assert actions(aas) == []
    with pytest.raises(ClientError) as gone:
        aas.delete_scheduled_action(
            ServiceNamespace="ecs", ResourceId=RID, ScalableDimension=DIMENSION, ScheduledActionName="night"
        )
    assert error_code(gone) == "ObjectNotFoundException"


@pytest.mark.parametrize(
    ("schedule", "extra"),
    [
        ("every day", {}),
        ("rate(0 minutes)", {}),
        ("rate(1 hours)", {}),
        ("cron(0 22 * * MON *)", {}),  # day-of-month and day-of-week both given
        ("cron(0 22 * *)", {}),
        ("cron(0 25 ? * MON *)", {}),
        ("at(2030-02-30T10:00:00)", {}),
        ("rate(5 minutes)", {"Timezone": "Mars/Olympus"}),
        ("rate(5 minutes)", {"ScalableTargetAction": {"MinCapacity": 5, "MaxCapacity": 2}}),
        (
            "rate(5 minutes)",
            {
                "StartTime": dt.datetime(2031, 1, 2, tzinfo=dt.UTC),
                "EndTime": dt.datetime(2031, 1, 1, tzinfo=dt.UTC),
            },
        ),
    ],
)
def test_bad_requests_are_validation_errors(aas: Any, schedule: str, extra: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as refused:
        put(aas, "bad", schedule, **extra)
    assert error_code(refused) == "ValidationException"
    assert actions(aas) == []


def test_an_unregistered_target_is_refused(sandbox: Sandbox, aas: Any) -> None:
    with pytest.raises(ClientError) as refused:
        aas.put_scheduled_action(
            ServiceNamespace="ecs",
            ResourceId="service/apps/other",
            ScalableDimension=DIMENSION,
            ScheduledActionName="x",
            Schedule="rate(1 hour)",
        )
    assert error_code(refused) == "ObjectNotFoundException"


def test_an_at_action_sets_the_range_and_scales_the_service_when_the_clock_reaches_it(
    sandbox: Sandbox, aas: Any
) -> None:
    when = sandbox_now(sandbox) + dt.timedelta(hours=3)
    put(
        aas,
        "peak",
        f"at({when.astimezone(dt.timezone(dt.timedelta(hours=9))).strftime('%Y-%m-%dT%H:%M:%S')})",
        Timezone="Asia/Tokyo",
        ScalableTargetAction={"MinCapacity": 3, "MaxCapacity": 6},
    )
    sandbox.admin.advance(2 * 3600)
    assert (the_target(aas)["MinCapacity"], desired(sandbox)) == (1, 2)
    sandbox.admin.advance(3600 + 60)
    target = the_target(aas)
    assert (target["MinCapacity"], target["MaxCapacity"]) == (3, 6)
    assert desired(sandbox) == 3
    (activity,) = aas.describe_scaling_activities(ServiceNamespace="ecs", ResourceId=RID)["ScalingActivities"]
    assert "peak" in activity["Cause"]


def test_a_cron_action_recurs_and_scales_in_to_a_new_maximum(sandbox: Sandbox, aas: Any) -> None:
    put(aas, "nightly", "cron(0 * ? * * *)", ScalableTargetAction={"MaxCapacity": 1})
    sandbox.admin.advance(3601)
    assert (the_target(aas)["MaxCapacity"], desired(sandbox)) == (1, 1)
    # a later change of the range is undone by the next hourly run
    register(aas, MinCapacity=1, MaxCapacity=4)
    sandbox.admin.advance(3600)
    assert the_target(aas)["MaxCapacity"] == 1


def test_end_time_stops_a_rate_and_suspension_skips_it(sandbox: Sandbox, aas: Any) -> None:
    now = sandbox_now(sandbox)
    put(
        aas,
        "grow",
        "rate(1 hour)",
        StartTime=now + dt.timedelta(hours=1),
        EndTime=now + dt.timedelta(hours=1, minutes=30),
        ScalableTargetAction={"MinCapacity": 3},
    )
    aas.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=RID,
        ScalableDimension=DIMENSION,
        SuspendedState={"ScheduledScalingSuspended": True},
    )
    sandbox.admin.advance(3600 + 60)
    assert (the_target(aas)["MinCapacity"], desired(sandbox)) == (1, 2)


def test_deregistering_the_target_deletes_its_actions(sandbox: Sandbox, aas: Any) -> None:
    put(aas, "later", "rate(1 hour)", ScalableTargetAction={"MinCapacity": 3})
    aas.deregister_scalable_target(ServiceNamespace="ecs", ResourceId=RID, ScalableDimension=DIMENSION)
    assert actions(aas) == []
    sandbox.admin.advance(3700)
    assert desired(sandbox) == 2
