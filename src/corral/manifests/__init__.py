"""ECS manifests: fetch them from a store, parse, validate against the AWS request shapes
and the ECS rules, and convert them into boto3 requests.

    files = FileStore(project / "files").fetch(["account:/ECS Tutorial/task.yaml"])
    doc = parse_manifest(files[0])                     # after rendering expressions
    problems = validate_manifest(ManifestKind.TASK_DEFINITION, doc, source=files[0].source)
    check = check_manifest(...)                        # errors, warnings, pasted-output note
    request = to_api(ManifestKind.TASK_DEFINITION, doc)
    problems += check_ecs_rules(request, service_request, source_task=..., source_service=...)

A stage's service as a whole (every manifest of it, for one environment and infrastructure,
with overrides, expressions, secrets and run-time inputs) is rendered by service_rendering.py,
once when the stage starts and with stand-ins for `corral validate`, `render` and `plan`;
fetching.py reads a manifest's files from its store, text_parsing.py parses rendered text.

The names are imported on first use: the Git store pulls in dulwich and the S3 store
botocore, which `corral validate` on a project without such stores never needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from corral.manifests.ecs_rules import check_ecs_rules, check_target_port
    from corral.manifests.file_store import FileStore
    from corral.manifests.git_store import GitAuth, GitStore
    from corral.manifests.kinds import ManifestKind
    from corral.manifests.manifest_file import ManifestFile
    from corral.manifests.parsing import parse_manifest
    from corral.manifests.pasted import unwrap_pasted
    from corral.manifests.s3_store import S3Store
    from corral.manifests.validation import (
        ManifestCheck,
        check_manifest,
        to_api,
        to_update_service,
        validate_manifest,
    )

# public name -> the module that defines it
_HOMES = {
    "FileStore": "file_store",
    "GitAuth": "git_store",
    "GitStore": "git_store",
    "ManifestFile": "manifest_file",
    "ManifestCheck": "validation",
    "ManifestKind": "kinds",
    "S3Store": "s3_store",
    "check_ecs_rules": "ecs_rules",
    "check_manifest": "validation",
    "check_target_port": "ecs_rules",
    "parse_manifest": "parsing",
    "to_api": "validation",
    "to_update_service": "validation",
    "unwrap_pasted": "pasted",
    "validate_manifest": "validation",
}

__all__ = [
    "FileStore",
    "GitAuth",
    "GitStore",
    "ManifestCheck",
    "ManifestFile",
    "ManifestKind",
    "S3Store",
    "check_ecs_rules",
    "check_manifest",
    "check_target_port",
    "parse_manifest",
    "to_api",
    "to_update_service",
    "unwrap_pasted",
    "validate_manifest",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
