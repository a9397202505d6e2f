"""Alarm states as the ECS emulation reads them for alarm-based rollback: alarms are made and set
through moto's CloudWatch with unmodified boto3 (PutMetricAlarm, SetAlarmState) and read in-process
by `corral.sandbox.alarms.alarm_states`. moto's state is shared by the sandboxes of one process:
each test names its own alarms."""

from __future__ import annotations

from typing import Any

from corral.sandbox import Sandbox
from corral.sandbox.alarms import alarm_states

ACCOUNT = "123456789012"


def put_alarm(cloudwatch: Any, name: str) -> None:
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/ECS",
        MetricName="CPUUtilization",
        Dimensions=[{"Name": "ServiceName", "Value": "web"}, {"Name": "ClusterName", "Value": "prod"}],
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=90.0,
        ComparisonOperator="GreaterThanThreshold",
    )


def described(cloudwatch: Any, names: list[str]) -> dict[str, str]:
    alarms = cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]
    return {alarm["AlarmName"]: alarm["StateValue"] for alarm in alarms}


def test_set_alarm_state_shows_through_alarm_states(sandbox: Sandbox) -> None:
    cloudwatch = sandbox.client("cloudwatch")
    put_alarm(cloudwatch, "states-cpu-high")
    put_alarm(cloudwatch, "states-errors")
    names = ["states-cpu-high", "states-errors", "states-never-made"]
    new = alarm_states(sandbox.world, ACCOUNT, "us-east-1", names)
    assert new == described(cloudwatch, names), "what DescribeAlarms reports; a missing alarm is absent"
    assert sorted(new) == ["states-cpu-high", "states-errors"]
    cloudwatch.set_alarm_state(AlarmName="states-cpu-high", StateValue="ALARM", StateReason="bake went bad")
    cloudwatch.set_alarm_state(
        AlarmName="states-errors", StateValue="INSUFFICIENT_DATA", StateReason="no data"
    )
    assert alarm_states(sandbox.world, ACCOUNT, "us-east-1", names) == {
        "states-cpu-high": "ALARM",
        "states-errors": "INSUFFICIENT_DATA",
    }
    cloudwatch.set_alarm_state(AlarmName="states-cpu-high", StateValue="OK", StateReason="recovered")
    assert alarm_states(sandbox.world, ACCOUNT, "us-east-1", ["states-cpu-high"]) == {"states-cpu-high": "OK"}


def test_alarms_belong_to_their_region(sandbox: Sandbox) -> None:
    ireland = sandbox.client("cloudwatch", region_name="eu-west-1")
    put_alarm(ireland, "states-in-ireland")
    ireland.set_alarm_state(AlarmName="states-in-ireland", StateValue="ALARM", StateReason="test")
    assert alarm_states(sandbox.world, ACCOUNT, "eu-west-1", ["states-in-ireland"]) == {
        "states-in-ireland": "ALARM"
    }
    assert alarm_states(sandbox.world, ACCOUNT, "us-east-1", ["states-in-ireland"]) == {}
    assert alarm_states(sandbox.world, "210987654321", "eu-west-1", ["states-in-ireland"]) == {}


def test_deleted_alarm_is_absent(sandbox: Sandbox) -> None:
    cloudwatch = sandbox.client("cloudwatch")
    put_alarm(cloudwatch, "states-deleted")
    cloudwatch.delete_alarms(AlarmNames=["states-deleted"])
    assert alarm_states(sandbox.world, ACCOUNT, "us-east-1", ["states-deleted"]) == {}
