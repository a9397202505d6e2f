"""Http: call a URL, check the response with an assertion, keep output variables.

    spec:
      url: https://web.example.com/health
      method: GET
      headers: [{key: Accept, value: application/json}]
      requestBody: ""
      assertion: <+httpResponseCode> == 200          # default: any 2xx or 3xx answer
      outputVariables:
        - {name: version, type: String, value: <+json.select("version", httpResponseBody)>}

Outputs: httpUrl, httpMethod, httpResponseCode, httpResponseBody, and each output variable.
"""

from __future__ import annotations

from typing import Any

from corral.errors import ExpressionError
from corral.expressions import ExpressionContext, Mode, render

from .conditions import evaluate_condition
from .steps import StepOutcome, StepRun

MAX_BODY = 64 * 1024  # kept in outputs (the journal); the rest is cut
BODY_SHOWN = 2000  # characters of a response body that go to the log
BODY_SCAN = 64_000  # characters masked before the cut (longer than any secret's forms)
DEFAULT_REQUEST_TIMEOUT = 60.0


def run_http(run: StepRun) -> StepOutcome:
    import httpx

    spec = run.spec
    url = spec.get("url")
    if not isinstance(url, str) or not url:
        return StepOutcome.failed("spec.url: expected the URL to call")
    method = str(spec.get("method", "GET")).upper()
    headers = _headers(spec.get("headers"))
    body = spec.get("requestBody")
    run.log.section("Execute")
    run.log.info(f"{method} {url}")
    timeout = max(0.1, min(run.remaining(), DEFAULT_REQUEST_TIMEOUT))
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.request(
                method, url, headers=headers, content=None if body in (None, "") else str(body)
            )
    except httpx.TimeoutException:
        if run.stopped():
            return run.stopped_outcome()
        return StepOutcome.failed(
            f"{method} {url}: no answer within {timeout:.0f}s", failure_type="Connectivity"
        )
    except httpx.HTTPError as error:
        return StepOutcome.failed(f"{method} {url}: {error}", failure_type="Connectivity")
    text = response.text
    run.log.info(f"Response code: {response.status_code}")
    # masked before it is cut: a secret across the cut would otherwise show its first part
    run.log.info(f"Response body: {run.mask(text[:BODY_SCAN])[:BODY_SHOWN]}")
    response_values = {
        "httpResponseCode": response.status_code,
        "httpResponseBody": text,
        "httpResponseHeaders": dict(response.headers),
    }
    outputs: dict[str, Any] = {
        "httpUrl": url,
        "httpMethod": method,
        "httpResponseCode": response.status_code,
        "httpResponseBody": run.mask(text[: MAX_BODY + BODY_SCAN])[:MAX_BODY],  # masked, then cut
    }
    values = {**run.values, **response_values}
    try:
        outputs.update(_output_variables(spec.get("outputVariables") or [], values))
    except ExpressionError as error:
        return StepOutcome.failed(f"spec.outputVariables: {error}", outputs=outputs)
    assertion = spec.get("assertion")
    if assertion in (None, ""):
        if response.status_code >= 400:
            return StepOutcome.failed(f"{method} {url} answered {response.status_code}", outputs=outputs)
        return StepOutcome(outputs=outputs)
    try:
        held = evaluate_condition(assertion, values)
    except ExpressionError as error:
        return StepOutcome.failed(f"spec.assertion: {error}", outputs=outputs)
    if not held:
        return StepOutcome.failed(
            f"Assertion {assertion} failed: response code {response.status_code}", outputs=outputs
        )
    run.log.info(f"Assertion {assertion} passed")
    return StepOutcome(outputs=outputs)


def _headers(items: Any) -> dict[str, str]:
    if isinstance(items, dict):
        return {str(k): str(v) for k, v in items.items()}
    out = {}
    for item in items or []:
        if isinstance(item, dict) and "key" in item:
            out[str(item["key"])] = str(item.get("value", ""))
    return out


def _output_variables(items: list[Any], values: dict[str, Any]) -> dict[str, Any]:
    ctx = ExpressionContext(values=values, keep=frozenset())
    out = {}
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("name"):
            out[str(item["name"])] = render(item.get("value"), ctx, mode=Mode.FAIL, path=f"[{index}].value")
    return out
