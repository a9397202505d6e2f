"""`environment:` documents: where a service goes (Production or PreProduction)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import Entity, Variable
from .overrides import Overrides, ServiceOverrides


class Environment(Entity):
    type: Literal["Production", "PreProduction"]
    variables: list[Variable] = Field(default_factory=list)
    # for every service deployed here, then per service (applied in that order)
    overrides: Overrides | None = None
    service_overrides: list[ServiceOverrides] = Field(default_factory=list)
