"""The names other packages import from corral.manifests stay put."""

from __future__ import annotations

import corral.manifests


def test_public_names() -> None:
    assert corral.manifests.__all__ == [
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


def test_manifest_kinds_are_their_yaml_names() -> None:
    assert [k.value for k in corral.manifests.ManifestKind] == [
        "EcsTaskDefinition",
        "EcsServiceDefinition",
        "EcsScalableTargetDefinition",
        "EcsScalingPolicyDefinition",
        "EcsRunTaskRequestDefinition",
        "EcsScheduledActionDefinition",
    ]
    assert corral.manifests.ManifestKind("EcsTaskDefinition") == "EcsTaskDefinition"
