"""A small Python client for the sandbox admin API (`/_sandbox/`)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any


class SandboxAdminError(Exception):
    pass


class SandboxAdmin:
    def __init__(self, endpoint_url: str, *, timeout: float = 10.0) -> None:
        self.base = endpoint_url.rstrip("/") + "/_sandbox"
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """The admin API's answer: always a JSON object."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except urllib.error.HTTPError as exc:
            raise SandboxAdminError(json.loads(exc.read() or b"{}").get("error", str(exc))) from exc

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def calls(self, since: int = 0) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = self._call("GET", f"/calls?since={since}")["calls"]
        return calls

    def call_counts(self) -> dict[str, int]:
        """Calls answered per operation, all outcomes together."""
        counts: dict[str, int] = {}
        for row in self._call("GET", "/calls")["counts"]:
            counts[row["operation"]] = counts.get(row["operation"], 0) + row["count"]
        return counts

    def last_call(self) -> int:
        last: int = self._call("GET", "/calls")["last"]
        return last

    def clear_calls(self) -> None:
        self._call("DELETE", "/calls")

    def add_fault(self, kind: str, **spec: Any) -> dict[str, Any]:
        fault: dict[str, Any] = self._call("POST", "/faults", {"kind": kind, **spec})["faults"][0]
        return fault

    def faults(self) -> list[dict[str, Any]]:
        faults: list[dict[str, Any]] = self._call("GET", "/faults")["faults"]
        return faults

    def clear_faults(self, fault_id: int | None = None) -> None:
        self._call("DELETE", "/faults" if fault_id is None else f"/faults/{fault_id}")

    def set_images(self, *rules: dict[str, Any]) -> list[dict[str, Any]]:
        images: list[dict[str, Any]] = self._call("POST", "/images", list(rules))["images"]
        return images

    def images(self) -> list[dict[str, Any]]:
        images: list[dict[str, Any]] = self._call("GET", "/images")["images"]
        return images

    def clear_images(self) -> None:
        self._call("DELETE", "/images")

    def set_functions(self, *rules: dict[str, Any]) -> list[dict[str, Any]]:
        """Lambda function behaviours, e.g. `{"function": "hook-*", "hookStatus": "FAILED"}`."""
        answer: list[dict[str, Any]] = self._call("POST", "/functions", list(rules))["functions"]
        return answer

    def functions(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self._call("GET", "/functions")["functions"]
        return answer

    def clear_functions(self) -> None:
        self._call("DELETE", "/functions")

    def invocations(self, function: str | None = None) -> list[dict[str, Any]]:
        """Lambda invocations, oldest first: functionName, sandboxTime, event, functionError, answer, via."""
        query = "" if function is None else "?" + urllib.parse.urlencode({"function": function})
        answer: list[dict[str, Any]] = self._call("GET", "/lambda/invocations" + query)["invocations"]
        return answer

    def advance(self, seconds: float) -> float:
        now: float = self._call("POST", "/clock", {"advance": seconds})["sandboxTime"]
        return now

    def now(self) -> float:
        now: float = self._call("GET", "/clock")["sandboxTime"]
        return now

    def set_throttling(self, enabled: bool) -> None:
        self._call("POST", "/throttling", {"enabled": enabled})

    def timing(self) -> dict[str, Any] | None:
        """The timing jitter's seed and ranges, or None when the sandbox's times are fixed."""
        jitter: dict[str, Any] | None = self._call("GET", "/timing")["jitter"]
        return jitter

    def reset(self) -> None:
        self._call("POST", "/reset")

    def steady_states(self) -> list[dict[str, Any]]:
        services: list[dict[str, Any]] = self._call("GET", "/steady-states")["services"]
        return services

    def scale(self, resource_id: str, desired_count: int, *, region: str = "us-east-1") -> dict[str, Any]:
        return self._call(
            "POST",
            "/autoscaling/scale",
            {"resourceId": resource_id, "desiredCount": desired_count, "region": region},
        )

    def set_target_health(
        self,
        target_group_arn: str,
        target_id: str,
        *,
        healthy: bool,
        port: int | None = None,
        status_code: int | None = None,
    ) -> None:
        """For targets registered through RegisterTargets: what the health check sees from now on."""
        body: dict[str, Any] = {
            "targetGroupArn": target_group_arn,
            "targetId": target_id,
            "healthy": healthy,
            "port": port,
        }
        if status_code is not None:
            body["statusCode"] = status_code
        self._call("POST", "/elbv2/target-health", body)
