"""FirstGen ${...} placeholders of the reference system's older ECS task definitions.

    ${DOCKER_IMAGE_NAME}        the image with its tag
    ${CONTAINER_NAME}           container_name() of the image without its registry host
    ${EXECUTION_ROLE}           the infrastructure's task execution role ARN
    ${serviceVariable.NAME}     a service variable

Values come from ExpressionContext.firstgen; when a name is absent there, DOCKER_IMAGE_NAME
falls back to the primary artifact's image, CONTAINER_NAME is derived from
DOCKER_IMAGE_NAME, and serviceVariable.NAME reads serviceVariables.NAME.

Placeholders that do not look like FirstGen ones (${HOME} in a container command) are
plain text and never touched. Ones that do (the names above, FirstGen roots such as
${workflow.variables.x}, or a near miss like ${DOCKER_IMAGE}) are unresolved when they
have no value, which is an error in FAIL mode.

Manifests may hold placeholders where JSON allows no string (`"containerPort":
${serviceVariable.containerPort}`), so substitute_text() works on raw text too.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from corral.errors import ExpressionError
from corral.expressions.aliases import with_aliases
from corral.expressions.context import ExpressionContext, Mode
from corral.expressions.values import to_text

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")
NAMES = ("DOCKER_IMAGE_NAME", "CONTAINER_NAME", "EXECUTION_ROLE")
PREFIXES = ("serviceVariable.", "workflow.", "app.", "env.", "service.", "infra.", "artifact.")

# The reference system's rule (EcsConvention.getContainerName): each of : . + * / \ space
# & $ | " ' becomes '_', then the whole name is lower-cased.
_CONTAINER_NAME_CHARS = re.compile(r"[:.+*/\\ &$|\"']")

MISSING: Any = object()


def container_name(image: str) -> str:
    """The FirstGen container name for an image name with tag.

    >>> container_name("library/nginx:stable-perl")
    'library_nginx_stable-perl'
    """
    return _CONTAINER_NAME_CHARS.sub("_", image).lower()


def without_registry(image: str) -> str:
    """library/nginx:tag from registry.hub.docker.com/library/nginx:tag (Docker's host rule)."""
    first, slash, rest = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return rest
    return image


def looks_like_firstgen(name: str) -> bool:
    """True for names the reference system would have replaced (or a near miss of one)."""
    if name in NAMES or name.startswith(PREFIXES):
        return True
    return name.isupper() and bool(difflib.get_close_matches(name, NAMES, n=1, cutoff=0.8))


def lookup(name: str, firstgen: Mapping[str, str], values: Mapping[str, Any]) -> Any:
    """The value of placeholder `name`, or MISSING. `values` is the aliased context data."""
    if name in firstgen:
        return firstgen[name]
    if name == "DOCKER_IMAGE_NAME":
        artifact = values.get("artifact")
        if isinstance(artifact, dict) and isinstance(artifact.get("image"), str):
            return artifact["image"]
    elif name == "CONTAINER_NAME":
        image = lookup("DOCKER_IMAGE_NAME", firstgen, values)
        if isinstance(image, str):
            return container_name(without_registry(image))
    elif name.startswith("serviceVariable."):
        variables = values.get("serviceVariables")
        key = name.removeprefix("serviceVariable.")
        if isinstance(variables, dict) and key in variables:
            return variables[key]
    return MISSING


def substitute_text(text: str, ctx: ExpressionContext, *, mode: Mode = Mode.FAIL) -> str:
    """Replace FirstGen placeholders in raw manifest text (before it is parsed as JSON/YAML)."""
    values = with_aliases(ctx.values)

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if not looks_like_firstgen(name):
            return match.group(0)
        value = lookup(name, ctx.firstgen, values)
        if value is not MISSING:
            return to_text(value)
        if mode is Mode.FAIL:
            raise ExpressionError(
                f"unresolved placeholder {match.group(0)}", expression=text, position=match.start()
            )
        return match.group(0) if mode is Mode.KEEP else "null"

    return PLACEHOLDER.sub(replace, text)
