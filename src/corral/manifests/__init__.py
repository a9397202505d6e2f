"""ECS manifests: fetch them from a store, parse, validate against the AWS request shapes
and the ECS rules, and convert them into boto3 requests.

    files = FileStore(project / "files").fetch(["account:/ECS Tutorial/task.yaml"])
    doc = parse_manifest(files[0])                     # after rendering expressions
    problems = validate_manifest(ManifestKind.TASK_DEFINITION, doc, source=files[0].source)
    request = to_api(ManifestKind.TASK_DEFINITION, doc)
    problems += check_ecs_rules(request, service_request, source_task=..., source_service=...)
"""

from corral.manifests.ecs_rules import check_ecs_rules, check_target_port
from corral.manifests.file_store import FileStore
from corral.manifests.git_store import GitAuth, GitStore
from corral.manifests.kinds import ManifestKind
from corral.manifests.manifest_file import ManifestFile
from corral.manifests.parsing import parse_manifest
from corral.manifests.s3_store import S3Store
from corral.manifests.validation import to_api, to_update_service, validate_manifest

__all__ = [
    "FileStore",
    "GitAuth",
    "GitStore",
    "ManifestFile",
    "ManifestKind",
    "S3Store",
    "check_ecs_rules",
    "check_target_port",
    "parse_manifest",
    "to_api",
    "to_update_service",
    "validate_manifest",
]
