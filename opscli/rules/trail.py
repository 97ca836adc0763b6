"""The audit trail (docs/requirements.md#audit-trail): it logs, in every
region, with log-file validation and a KMS key. Judged the same way on a
template's properties (readiness) and on a live trail read back (verify):
both are given in CloudFormation's property names."""
from __future__ import annotations

from . import Finding, judge, not_applicable

# property -> rule name; each must be true (KMSKeyId: set)
REQUIRED = {
    "IsLogging": "trail.logging",
    "IsMultiRegionTrail": "trail.multi-region",
    "EnableLogFileValidation": "trail.log-file-validation",
}


def audit_trail(subject: str, props: dict | None) -> list[Finding]:
    if props is None:
        return [not_applicable("trail.logging", subject, "no trail")]
    findings = [judge(rule, f"{subject} {rule.split('.', 1)[1]}", props.get(prop) is True, True, props.get(prop))
                for prop, rule in REQUIRED.items()]
    key = props.get("KMSKeyId")
    findings.append(judge("trail.kms-key", f"{subject} KMS key", bool(key), "a KMS key", key))
    return findings


def passes(findings: list[Finding]) -> bool:
    return bool(findings) and not any(f.failed or f.outcome.value == "N/A" for f in findings)
