"""`secret:` documents: a named secret value kept outside the project's YAML.

`spec.secretManagerIdentifier` says where the value lives:
  env     the environment variable named by `value`          (valueType: Reference)
  file    the file named by `value`, relative to the project (valueType: Reference)
  corral  `value` is a Fernet token made with the project key (valueType: Inline);
          `harnessSecretManager` is accepted as a synonym, so Harness YAML loads.

Harness never exports a secret's value: an exported secret has `secretManagerIdentifier:
harnessSecretManager` and no `value` (or `valueType: Reference`, naming something in Harness's
own store). It loads; reading it says how to give the value (config/secrets.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from .common import Entity, Model, field_error

ENV_MANAGER = "env"
FILE_MANAGER = "file"
CORRAL_MANAGER = "corral"
HARNESS_MANAGERS = ("harnessSecretManager", "account.harnessSecretManager", "org.harnessSecretManager")
MANAGER_SYNONYMS = dict.fromkeys(HARNESS_MANAGERS, CORRAL_MANAGER)


class SecretTextSpec(Model):
    secret_manager_identifier: Literal[
        "env",
        "file",
        "corral",
        "harnessSecretManager",
        "account.harnessSecretManager",
        "org.harnessSecretManager",
    ] = "env"
    value_type: Literal["Reference", "Inline"] | None = None
    value: str | None = None

    @property
    def manager(self) -> str:
        return MANAGER_SYNONYMS.get(self.secret_manager_identifier, self.secret_manager_identifier)

    @property
    def exported_without_value(self) -> bool:
        """Exported from Harness: its value stayed in Harness's secret manager."""
        return self.secret_manager_identifier in HARNESS_MANAGERS and (
            self.value is None or self.value_type == "Reference"
        )

    @model_validator(mode="after")
    def _value_type_fits_manager(self) -> SecretTextSpec:
        if self.exported_without_value:
            return self
        if self.value is None:
            raise field_error("value", "required field is missing")
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
