"""IAM roles (docs/requirements.md#least-privilege): exactly the approved
inline and attached policies; an extra one (AdministratorAccess, a ``*:*``
statement) is a failure whoever added it."""
from __future__ import annotations

from ..live.iam import Role
from . import Finding, judge


def attached_policies(subject: str, want: set[str], live: Role) -> Finding:
    return judge("iam.attached-policies", f"{subject} attached policies", set(live.attached) == set(want),
                 sorted(want), list(live.attached))


def inline_policies(subject: str, want: dict[str, object], live: Role, canon) -> list[Finding]:
    findings = []
    for name in sorted(set(live.inline) - set(want)):
        findings.append(judge("iam.inline-policies", f"{subject} inline policy {name}", False,
                              "no such policy (not approved)", live.inline[name]))
    for name in sorted(set(want) - set(live.inline)):
        findings.append(judge("iam.inline-policies", f"{subject} inline policy {name}", False, want[name], "none"))
    for name in sorted(set(want) & set(live.inline)):
        findings.append(judge("iam.inline-policies", f"{subject} inline policy {name}",
                              canon(want[name]) == canon(live.inline[name]), canon(want[name]), canon(live.inline[name])))
    return findings
