"""Harness fields Corral reads but does not honour where a user would expect an effect: one
warning each from `corral validate` (an error with --strict), never silence.

    connector.spec.proxy: true   Harness routes the connector's calls through a proxy it is
                                 configured with; Corral's AWS calls use the proxy of the process
                                 that makes them (HTTPS_PROXY, as botocore reads it)
"""

from __future__ import annotations

from corral.errors import Problem, format_path

from .entities.connector import AwsConnector
from .project import Project

PROXY_IGNORED = (
    "ignored: Corral's AWS calls go through the proxy of the process that makes them "
    "(HTTPS_PROXY / NO_PROXY in its environment), not one the connector names"
)


def ignored_field_warnings(project: Project) -> list[Problem]:
    """One warning per ignored field, in file order."""
    warnings = []
    for _, connector in sorted(project.connectors.items()):
        if isinstance(connector, AwsConnector) and connector.spec.proxy:
            path = ("connector", "spec", "proxy")
            warnings.append(Problem(connector.where(path), format_path(path), PROXY_IGNORED))
    return warnings
