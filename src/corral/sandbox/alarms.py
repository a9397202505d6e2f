"""CloudWatch alarm states, read in-process from moto's CloudWatch for the ECS emulation.

PutMetricAlarm, SetAlarmState and DescribeAlarms are answered by moto through the gateway; ECS's
alarm-based rollback ("How CloudWatch alarms can detect Amazon ECS deployment failures",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html) only
needs each named alarm's state, so the sandbox reads moto's backend of the account and Region
directly instead of calling DescribeAlarms from a timer.
"""

from __future__ import annotations

import sys
from typing import Any

# the states CloudWatch reports ("StateValue", DescribeAlarms, CloudWatch API Reference)
ALARM_STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")


def alarm_states(world: Any, account_id: str, region: str, names: list[str]) -> dict[str, str]:
    """Alarm name -> "OK" | "ALARM" | "INSUFFICIENT_DATA"; an alarm that does not exist is absent.

    `world` is part of the interface the ECS emulation codes to; moto's state is per process, so
    it is not needed to find the alarms.
    """
    backend = _cloudwatch(account_id, region)
    if backend is None:
        return {}
    alarms: dict[str, Any] = backend.alarms
    found: dict[str, str] = {}
    for name in names:
        alarm = alarms.get(name)
        if alarm is not None:
            found[name] = str(alarm.state_value)
    return found


def _cloudwatch(account_id: str, region: str) -> Any:
    """moto's CloudWatch backend of the account and Region, without making moto create one."""
    models = sys.modules.get("moto.cloudwatch.models")
    if models is None:  # nobody called CloudWatch in this process: no alarm can exist
        return None
    per_account = dict.get(models.cloudwatch_backends, account_id)
    if per_account is None:
        return None
    return dict.get(per_account, region)
