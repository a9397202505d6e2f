"""Normalise a captured AWS end state so that two runs of the same deployment compare equal.

Only what AWS makes up anew on every run is replaced: times (`<time>`), generated ids (UUIDs,
ECS deployment ids, EC2 / Cloud Map ids, the hex parts of ARNs, the suffixes of the names
CloudFormation makes) become `<id>`, keeping the prefix that says what they are. Names, images, counts, weights, ports, task definition content
and states are kept, so a real difference (a service left running, a policy missing, a rule
forwarding elsewhere) still shows.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

TIME = "<time>"
ID = "<id>"

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
# ECS deployment ids: `ecs-svc/` and a long number
_DEPLOYMENT = re.compile(r"\becs-svc/\d+")
# EC2 and Cloud Map ids: subnet-0a1b..., sg-..., eni-..., srv-..., ns-...
_PREFIXED = re.compile(r"\b(subnet|sg|vpc|eni|srv|ns)-[0-9a-z]{8,}\b")
# the random hex parts of ARNs (load balancers, listeners, rules, target groups, tasks, scalable
# targets): a run of 16 or more hex digits between separators
_HEX = re.compile(r"(?<=[/:])[0-9a-f]{16,}(?=$|[/:])")
# the random suffix CloudFormation gives the physical names it makes (`web-relea-Group-75LO5A9DYPBD`;
# one in fifty has no digit: `web-relea-Group-DRFPLBXENDSJ`)
_CFN_SUFFIX = re.compile(r"(?<=-)[A-Z0-9]{12,13}\b")


def normalise_text(text: str) -> str:
    text = _UUID.sub(ID, text)
    text = _DEPLOYMENT.sub(f"ecs-svc/{ID}", text)
    text = _PREFIXED.sub(lambda m: f"{m.group(1)}-{ID}", text)
    text = _CFN_SUFFIX.sub(ID, text)
    return _HEX.sub(ID, text)


def normalise(value: Any) -> Any:
    """A copy of `value` (JSON-like, as boto3 answers) with times and generated ids replaced."""
    if isinstance(value, dict):
        return {normalise_text(k) if isinstance(k, str) else k: normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date)):
        return TIME
    if isinstance(value, str):
        return normalise_text(value)
    return value
