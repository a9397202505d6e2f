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
    connections.py, manifest_sources.py   connectors -> clients; fetching manifests
    rendering.py     render_service: manifests -> validated ECS requests
    targets.py       which infrastructures a service can be deployed to
    validation.py    validate_project: everything above over the whole project
"""

from corral.config.entities.common import Entity, Variable
from corral.config.entities.connector import (
    AwsConnector,
    DockerRegistryConnector,
    GitConnector,
    GithubConnector,
)
from corral.config.entities.environment import Environment
from corral.config.entities.infrastructure import InfrastructureDefinition
from corral.config.entities.pipeline import InputSet, Pipeline
from corral.config.entities.secret import Secret
from corral.config.entities.service import Service
from corral.config.overrides import EffectiveService, effective_service
from corral.config.project import Project, load_project, read_project
from corral.config.rendering import RenderedManifest, RenderedService, render_service
from corral.config.secrets import SecretResolver, decrypt, encrypt
from corral.config.settings import ProjectSettings, find_project_root
from corral.config.targets import deployment_targets
from corral.config.validation import ValidationReport, validate_project

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
