"""SSM parameters by name: type and key (never the value)."""
from __future__ import annotations

from dataclasses import dataclass

from ..session import Aws


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    key_id: str | None


def describe(aws: Aws, names: list[str]) -> dict[str, Parameter | None]:
    ssm, found = aws.client("ssm"), {}
    for name in names:
        meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
        found[name] = Parameter(name, meta[0]["Type"], meta[0].get("KeyId")) if meta else None
    return found
