"""The environment contract: which variable names each service may receive.

One file (``config/env_contract.yaml``) lists, per service, every allowed
environment variable and whether it is required and whether it is a secret.
Both clouds build service environments only through :meth:`ServiceContract.check`,
so a name outside the schema, a missing required name, or a secret passed as
a plain value stops synth with a message naming the file, the service and the
variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from envconfig import location
from envconfig.errors import ConfigError
from envconfig.models.contract import ContractFile
from envconfig.reader import read_yaml
from envconfig.validation import validate

CONTRACT_FILE = Path(__file__).resolve().parent.parent / "config" / "env_contract.yaml"


class ContractError(ConfigError):
    """A service environment does not match the contract."""


@dataclass(frozen=True)
class Variable:
    name: str
    required: bool
    secret: bool
    description: str


@dataclass(frozen=True)
class ServiceContract:
    """The allowed variables of one service."""

    path: Path
    service: str
    variables: Mapping[str, Variable]

    @property
    def required(self) -> frozenset[str]:
        return frozenset(v.name for v in self.variables.values() if v.required)

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(v.name for v in self.variables.values() if v.secret)

    def check(self, *, plain: Mapping[str, str], secrets: Mapping[str, object], source: str) -> None:
        """Validate one service environment.

        ``plain`` maps names to literal values; ``secrets`` maps names to
        references (an SSM parameter name, a Secret Manager secret). ``source``
        names who built the environment (a stack or construct path) for the
        message.
        """
        where = f"services.{self.service} (environment built by {source})"
        for name in sorted(set(plain) | set(secrets)):
            if name not in self.variables:
                raise ContractError(self.path, f"{where}: {name}", "is not in the environment contract; add it to the schema or use the schema's name")
        for name in sorted(set(plain) & set(secrets)):
            raise ContractError(self.path, f"{where}: {name}", "is given both as a plain value and as a secret reference")
        for name in sorted(set(plain) & self.secrets):
            raise ContractError(self.path, f"{where}: {name}", "is a secret and must be injected as a secret reference, never as a plain value")
        for name in sorted(set(secrets) - self.secrets):
            # Never advise "pass it as a plain value": the name may well hold a password.
            raise ContractError(self.path, f"{where}: {name}", "is passed as a secret reference but the contract does not mark it "
                                "secret: if it holds a secret, add `secret: true` to it in the contract")
        missing = sorted(self.required - set(plain) - set(secrets))
        if missing:
            raise ContractError(self.path, f"{where}: {missing[0]}", f"is required by the contract but missing (all missing: {missing})")
        for name, value in plain.items():
            if not isinstance(value, str):
                raise ContractError(self.path, f"{where}: {name}", f"must be a string, got {type(value).__name__}")


@dataclass(frozen=True)
class EnvContract:
    path: Path
    services: Mapping[str, ServiceContract]

    def service(self, name: str) -> ServiceContract:
        if name not in self.services:
            raise ContractError(self.path, f"services.{name}", f"no such service in the contract (known: {sorted(self.services)})")
        return self.services[name]


def contract_path() -> Path:
    """``<config dir>/env_contract.yaml`` (``MD_CONFIG_DIR`` honoured)."""
    return location.config_dir() / CONTRACT_FILE.name


def load_contract(path: Path | None = None) -> EnvContract:
    """Read and validate the contract file."""
    path = path or contract_path()
    parsed = validate(ContractFile, read_yaml(path), path)
    services = {
        service: ServiceContract(path, service, MappingProxyType({
            name: Variable(name=name, required=v.required, secret=v.secret, description=v.description)
            for name, v in settings.variables.items()
        }))
        for service, settings in parsed.services.items()
    }
    return EnvContract(path, MappingProxyType(services))


def default_contract() -> EnvContract:
    """The contract of the configuration directory, read once per process and path."""
    return _cached_contract(contract_path())


@lru_cache(maxsize=None)
def _cached_contract(path: Path) -> EnvContract:
    return load_contract(path)
