"""The environment contract file (``config/env_contract.yaml``): per service,
every environment variable it may receive, whether it is required and
whether it is a secret."""

from __future__ import annotations

from pydantic import Field
from pydantic.dataclasses import dataclass

from envconfig.models.fields import MODEL_CONFIG, Bool, Section, Str

VARIABLE_NAME = r"[A-Z][A-Z0-9_]*"


@dataclass(frozen=True, config=MODEL_CONFIG)
class VariableSettings:
    required: Bool = False
    secret: Bool = False
    description: Str() = ""


@dataclass(frozen=True, config=MODEL_CONFIG)
class ServiceSettings:
    variables: Section(VariableSettings, key=Str(VARIABLE_NAME, "variable names are UPPER_SNAKE_CASE"), non_empty_names=True)
    description: Str() = ""


@dataclass(frozen=True, config=MODEL_CONFIG)
class ContractFile:
    services: Section(ServiceSettings, non_empty_names=True) = Field()
