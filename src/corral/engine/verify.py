"""Verify: watch the new version for a while and fail (so the stage rolls back) if it misbehaves.

    spec:
      duration: 5m                 # the window
      interval: 30s                # one measurement per check per interval
      failureLimit: 1              # failed measurements tolerated per check
      consecutiveErrorLimit: 4     # measurements in a row that could not be taken
      inconclusiveLimit: 0         # measurements without data tolerated
      checks:
        - name: health
          type: Http
          spec: {url: https://web.example.com/health, expectedStatus: [200], maxLatency: 500ms}
        - name: errors
          type: CloudWatch
          spec:
            connectorRef: aws          # default: the stage infrastructure's connector
            region: us-east-1          # default: the stage infrastructure's Region
            lookback: 5m
            metricDataQueries: [...]   # GetMetricData's MetricDataQueries
            successCondition: result < 5

Each measurement is judged on its own (status, latency, condition); the verdict over all of
them is `analysis.assess`, a pure function. The step stops early once the verdict is Failed.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from corral.errors import ExpressionError

from .analysis import Limits, Measurement, Phase, assess
from .conditions import evaluate_condition
from .durations import parse_duration
from .steps import StepOutcome, StepRun

Measure = Callable[[], Measurement]


def run_verify(run: StepRun) -> StepOutcome:
    spec = run.spec
    try:
        duration = parse_duration(spec.get("duration", "5m"))
        interval = parse_duration(spec.get("interval", "30s"))
        limits = Limits(
            failure_limit=int(spec.get("failureLimit", 0)),
            consecutive_error_limit=int(spec.get("consecutiveErrorLimit", 4)),
            inconclusive_limit=int(spec.get("inconclusiveLimit", 0)),
        )
        checks = [_check(run, index, item) for index, item in enumerate(spec.get("checks") or [])]
    except (ValueError, TypeError) as error:
        return StepOutcome.failed(str(error))
    if not checks:
        return StepOutcome.failed("spec.checks: expected at least one check (Http or CloudWatch)")
    run.log.section("Verify")
    run.log.info(f"Verifying for {duration:g}s, one measurement every {interval:g}s")
    measurements: dict[str, list[Measurement]] = {name: [] for name, _ in checks}
    end = time.monotonic() + duration
    while True:
        for name, measure in checks:
            measurement = measure()
            measurements[name].append(measurement)
            run.log.info(f"{name}: {measurement.phase.value} {measurement.message}".rstrip())
        verdict = assess(measurements, limits, complete=False)
        if verdict.done or time.monotonic() + interval > end:
            break
        if run.abort.wait(interval):
            return run.stopped_outcome()
    verdict = assess(measurements, limits, complete=True) if not verdict.done else verdict
    outputs = {
        "verdict": verdict.phase.value,
        "measurements": {k: dict(v) for k, v in verdict.counts.items()},
    }
    if verdict.phase is Phase.SUCCESSFUL:
        run.log.info("Verification passed")
        return StepOutcome(outputs=outputs)
    run.log.error(f"Verification {verdict.phase.value.lower()}: {verdict.message}")
    return StepOutcome.failed(
        f"Verification {verdict.phase.value.lower()}: {verdict.message}",
        failure_type="Verification",
        outputs=outputs,
    )


def _check(run: StepRun, index: int, item: Any) -> tuple[str, Measure]:
    where = f"spec.checks[{index}]"
    if not isinstance(item, dict) or "type" not in item:
        raise ValueError(f"{where}: expected {{name, type: Http|CloudWatch, spec}}")
    name = str(item.get("name") or f"check{index + 1}")
    spec = item.get("spec") or {}
    if item["type"] == "Http":
        return name, lambda: http_measurement(name, spec, run)
    if item["type"] == "CloudWatch":
        client = _cloudwatch(run, spec, where)
        return name, lambda: cloudwatch_measurement(name, spec, client)
    raise ValueError(f"{where}.type: expected Http or CloudWatch, got {item['type']!r}")


# -- HTTP --------------------------------------------------------------------------------


def http_measurement(name: str, spec: dict[str, Any], run: StepRun) -> Measurement:
    import httpx

    url = str(spec.get("url", ""))
    method = str(spec.get("method", "GET")).upper()
    timeout = parse_duration(spec.get("timeout", "10s"))
    max_latency = parse_duration(spec["maxLatency"]) if spec.get("maxLatency") is not None else None
    started = time.monotonic()
    try:
        response = httpx.request(method, url, headers=spec.get("headers") or None, timeout=timeout)
    except httpx.HTTPError as error:
        # the service not answering is the new version misbehaving, not a failed measurement
        return Measurement(name, Phase.FAILED, None, f"{method} {url}: {error or type(error).__name__}")
    latency = time.monotonic() - started
    value = {"status": response.status_code, "latencyMs": round(latency * 1000)}
    if not _status_ok(response.status_code, spec.get("expectedStatus")):
        return Measurement(name, Phase.FAILED, value, f"{method} {url} answered {response.status_code}")
    if max_latency is not None and latency > max_latency:
        return Measurement(
            name,
            Phase.FAILED,
            value,
            f"{method} {url} took {latency * 1000:.0f}ms (limit {max_latency * 1000:.0f}ms)",
        )
    return Measurement(name, Phase.SUCCESSFUL, value, f"{response.status_code} in {latency * 1000:.0f}ms")


def _status_ok(status: int, expected: Any) -> bool:
    if expected is None:
        return 200 <= status < 300
    items = expected if isinstance(expected, list) else [expected]
    for item in items:
        text = str(item).lower()
        if text.endswith("xx") and text[:-2].isdigit() and status // 100 == int(text[:-2]):
            return True
        if text.isdigit() and int(text) == status:
            return True
    return False


# -- CloudWatch --------------------------------------------------------------------------


def _cloudwatch(run: StepRun, spec: dict[str, Any], where: str) -> Any:
    from corral.config.connections import aws_settings
    from corral.config.entities.connector import AwsConnector
    from corral.config.secrets import SecretResolver

    if run.project is None:
        raise ValueError(f"{where}: CloudWatch checks need the project (for the AWS connector)")
    target = run.target
    ref = spec.get("connectorRef") or (target.connector_ref if target else None)
    connector = run.project.connector(str(ref)) if ref else None
    if not isinstance(connector, AwsConnector):
        raise ValueError(f"{where}.spec.connectorRef: expected an AWS connector of the project, got {ref!r}")
    region = spec.get("region") or (target.region if target else None)
    secrets = run.secrets or SecretResolver(run.project)
    return aws_settings(connector, secrets, region=region).client("cloudwatch")


def cloudwatch_measurement(name: str, spec: dict[str, Any], client: Any) -> Measurement:
    from botocore.exceptions import BotoCoreError, ClientError

    lookback = parse_duration(spec.get("lookback", "5m"))
    end = dt.datetime.now(dt.UTC)
    try:
        answer = client.get_metric_data(
            MetricDataQueries=spec.get("metricDataQueries") or [],
            StartTime=end - dt.timedelta(seconds=lookback),
            # a minute ahead, so the period holding "now" is part of the answer
            EndTime=end + dt.timedelta(minutes=1),
            ScanBy="TimestampDescending",
        )
    except (ClientError, BotoCoreError) as error:
        return Measurement(name, Phase.ERROR, None, f"GetMetricData failed: {error}")
    results = {r["Id"]: list(r.get("Values") or []) for r in answer.get("MetricDataResults", [])}
    first = next((values for values in results.values() if values), None)
    if first is None:
        return Measurement(name, Phase.INCONCLUSIVE, None, "no data points in the lookback window")
    value = first[0]  # newest first (GetMetricData's default order)
    values = {"result": value, "results": results}
    try:
        if spec.get("failureCondition") and evaluate_condition(spec["failureCondition"], values):
            return Measurement(name, Phase.FAILED, value, f"result {value} meets {spec['failureCondition']}")
        condition = spec.get("successCondition")
        if condition and not evaluate_condition(condition, values):
            return Measurement(name, Phase.FAILED, value, f"result {value} does not meet {condition}")
    except ExpressionError as error:
        return Measurement(name, Phase.ERROR, value, f"condition: {error}")
    return Measurement(name, Phase.SUCCESSFUL, value, f"result {value}")
