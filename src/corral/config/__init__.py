"""The project configuration: Harness NextGen style YAML entities, loaded, checked and rendered.

    project = load_project("examples/ecs-tutorial")          # ConfigError lists every problem
    rendered = render_service(project, "ecs_tutorial", "ecs_tutorial", "sandbox")
    report = validate_project("examples/ecs-tutorial")      # what `corral validate` prints

Modules:
    entities/        typed models of each document kind (service, environment, ...)
    yaml_source.py   YAML with line numbers, duplicate keys and syntax errors as problems
    problems.py      pydantic errors -> Problem(file:line, YAML path, what was expected)
    project.py       finding and loading the entity files; Project
    references.py    dangling and mistyped references
    overrides.py     service < environment < infrastructure < runtime
    runtime_inputs.py, input_sets.py   <+input> fields and the values given for them
    secrets.py       env / file / encrypted (Fernet) secret values
    connections.py   connectors -> clients (manifests/fetching.py reads the stores)
    (rendering a service into validated ECS requests lives in manifests/service_rendering.py)
    targets.py       which infrastructures a service can be deployed to
    validation.py    validate_project: everything above over the whole project
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from corral.config.entities.common import Entity, Variable
    from corral.config.entities.environment import Environment
    from corral.config.entities.infrastructure import InfrastructureDefinition
    from corral.config.entities.pipeline import InputSet, Pipeline
    from corral.config.entities.secret import Secret
    from corral.config.entities.service import Service
    from corral.config.overrides import EffectiveService, effective_service
    from corral.config.project import Project, load_project, read_project
    from corral.config.secrets import SecretResolver, decrypt, encrypt
    from corral.config.settings import ProjectSettings, find_project_root
    from corral.config.targets import deployment_targets
    from corral.config.validation import ValidationReport, validate_project
    from corral.manifests.service_rendering import RenderedManifest, RenderedService, render_service


# name -> module; imported on first use, so `corral ls` does not pay for rendering's imports
_EXPORTS = {
    "(": "corral.config.entities.connector",
    "EffectiveService": "corral.config.overrides",
    "Entity": "corral.config.entities.common",
    "Environment": "corral.config.entities.environment",
    "InfrastructureDefinition": "corral.config.entities.infrastructure",
    "InputSet": "corral.config.entities.pipeline",
    "Pipeline": "corral.config.entities.pipeline",
    "Project": "corral.config.project",
    "ProjectSettings": "corral.config.settings",
    "RenderedManifest": "corral.manifests.service_rendering",
    "RenderedService": "corral.manifests.service_rendering",
    "Secret": "corral.config.entities.secret",
    "SecretResolver": "corral.config.secrets",
    "Service": "corral.config.entities.service",
    "ValidationReport": "corral.config.validation",
    "Variable": "corral.config.entities.common",
    "decrypt": "corral.config.secrets",
    "deployment_targets": "corral.config.targets",
    "effective_service": "corral.config.overrides",
    "encrypt": "corral.config.secrets",
    "find_project_root": "corral.config.settings",
    "load_project": "corral.config.project",
    "read_project": "corral.config.project",
    "render_service": "corral.manifests.service_rendering",
    "validate_project": "corral.config.validation",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'corral.config' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "AwsConnector",
    "DockerRegistryConnector",
    "EffectiveService",
    "Entity",
    "Environment",
    "GitConnector",
    "GithubConnector",
    "InfrastructureDefinition",
    "InputSet",
    "Pipeline",
    "Project",
    "ProjectSettings",
    "RenderedManifest",
    "RenderedService",
    "Secret",
    "SecretResolver",
    "Service",
    "ValidationReport",
    "Variable",
    "decrypt",
    "deployment_targets",
    "effective_service",
    "encrypt",
    "find_project_root",
    "load_project",
    "read_project",
    "render_service",
    "validate_project",
]
