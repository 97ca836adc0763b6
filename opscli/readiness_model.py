"""What a readiness gate is, shared by opscli.readiness and opscli.recovery_readiness.

Kept in its own module so that the recovery gates use these without
importing opscli.readiness, which runs them (no import cycle).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent


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


def _gate(section: str, name: str, ok: bool, evidence: str) -> Gate:
    return Gate(section, name, Verdict.PASS if ok else Verdict.FAIL, evidence)
