"""Lambda functions (docs/requirements.md#approval, #least-privilege): the
code that runs is the approved package (CodeSha256), and the resource policy
lets in exactly the approved callers (principal, source ARN, source account)."""
from __future__ import annotations

from dataclasses import dataclass

from ..live.functions import Function
from . import Finding, Outcome, judge, not_applicable


@dataclass(frozen=True)
class ExpectedPermission:
    principal: str                 # "apigateway.amazonaws.com"
    source_arn: str | None
    source_account: str | None


def code_hash(subject: str, expected_sha256: str | None, live: Function, source: str) -> Finding:
    if expected_sha256 is None:
        return Finding("lambda.code-hash", f"{subject} code", Outcome.WARN, source, live.code_sha256,
                       "the approved package could not be read, so the running code was not compared")
    return judge("lambda.code-hash", f"{subject} code", live.code_sha256 == expected_sha256,
                 f"CodeSha256 {expected_sha256} ({source})", f"CodeSha256 {live.code_sha256}")


def _principal(p) -> str:
    if p == "*" or p == {"AWS": "*"}:
        return "*"
    if isinstance(p, dict):
        return ",".join(str(v) for v in p.values())
    return str(p)


def invoke_permissions(subject: str, want: list[ExpectedPermission], live: Function) -> list[Finding]:
    if not want and not live.permissions:
        return [not_applicable("lambda.invoke-permissions", subject, "no resource policy and none approved")]
    expected = sorted((w.principal, w.source_arn, w.source_account) for w in want)
    actual = sorted((_principal(p.principal), p.source_arn, p.source_account) for p in live.permissions)
    findings = []
    for extra in sorted(set(actual) - set(expected), key=str):
        findings.append(judge("lambda.invoke-permissions", f"{subject} permission for {extra[0]}", False,
                              "no such permission (not approved)",
                              {"Principal": extra[0], "SourceArn": extra[1], "SourceAccount": extra[2]}))
    for missing in sorted(set(expected) - set(actual), key=str):
        findings.append(judge("lambda.invoke-permissions", f"{subject} permission for {missing[0]}", False,
                              {"Principal": missing[0], "SourceArn": missing[1], "SourceAccount": missing[2]}, "none"))
    if not findings:
        findings.append(judge("lambda.invoke-permissions", f"{subject} permissions", True, expected, actual))
    return findings


def configuration(subject: str, want: dict, live: Function) -> Finding:
    actual = {"Runtime": live.runtime, "Handler": live.handler, "Role": live.role}
    expected = {k: want.get(k) for k in actual}
    return judge("lambda.configuration", f"{subject} configuration", actual == expected, expected, actual)
