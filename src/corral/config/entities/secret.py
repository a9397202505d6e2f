"""`secret:` documents: a named secret value kept outside the project's YAML.

`spec.secretManagerIdentifier` says where the value lives:
  env     the environment variable named by `value`          (valueType: Reference)
  file    the file named by `value`, relative to the project (valueType: Reference)
  corral  `value` is a Fernet token made with the project key (valueType: Inline);
          `harnessSecretManager` is accepted as a synonym, so Harness YAML loads.
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from .common import Entity, Model, field_error

ENV_MANAGER = "env"
FILE_MANAGER = "file"
CORRAL_MANAGER = "corral"
MANAGER_SYNONYMS = {"harnessSecretManager": CORRAL_MANAGER, "account.harnessSecretManager": CORRAL_MANAGER}


class SecretTextSpec(Model):
    secret_manager_identifier: Literal["env", "file", "corral", "harnessSecretManager"] = "env"
    value_type: Literal["Reference", "Inline"] | None = None
    value: str

    @property
    def manager(self) -> str:
        return MANAGER_SYNONYMS.get(self.secret_manager_identifier, self.secret_manager_identifier)

    @model_validator(mode="after")
    def _value_type_fits_manager(self) -> SecretTextSpec:
        expected = "Inline" if self.manager == CORRAL_MANAGER else "Reference"
        if self.value_type is not None and self.value_type != expected:
            raise field_error(
                "valueType",
                f"expected {expected} for secretManagerIdentifier {self.secret_manager_identifier}",
            )
        return self


class Secret(Entity):
    type: Literal["SecretText"]
    spec: SecretTextSpec
