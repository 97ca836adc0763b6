"""The shape of a readiness gate and of the synthesized output it is judged
on; shared by ``opscli.readiness`` and ``opscli.recovery_readiness`` (which
used to import each other)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Iterator


class Verdict(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    MANUAL = "MANUAL"


@dataclass(frozen=True)
class Gate:
    section: str
    name: str
    verdict: Verdict
    evidence: str


def gate(section: str, name: str, ok: bool, evidence: str) -> Gate:
    return Gate(section, name, Verdict.PASS if ok else Verdict.FAIL, evidence)


@dataclass(frozen=True)
class Artifacts:
    """The synthesized output of one environment on both clouds."""

    aws: dict[str, dict]   # stack id -> CloudFormation template
    gcp: dict              # Terraform JSON
    roots: tuple[Path, ...]

    def aws_resources(self, type_: str) -> Iterator[tuple[str, str, dict]]:
        for stack, template in self.aws.items():
            for logical_id, resource in template.get("Resources", {}).items():
                if resource["Type"] == type_:
                    yield stack, logical_id, resource

    def gcp_resources(self, type_: str) -> dict[str, dict]:
        return self.gcp.get("resource", {}).get(type_, {})
