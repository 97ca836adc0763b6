"""The HTTP API as a caller reaches it (docs/requirements.md#least-privilege):
exactly the approved routes, each with the approved authorization and
target; integrations to the approved function; stages with the approved
throttling and access logs."""
from __future__ import annotations

from dataclasses import dataclass

from ..live.api import Api
from . import Finding, judge, not_applicable


@dataclass(frozen=True)
class ExpectedApi:
    routes: dict[str, dict]            # route key -> {"AuthorizationType", "Target"}
    integrations: dict[str, str]       # integration id -> IntegrationUri
    stages: dict[str, dict]            # stage name -> {"burst", "rate", "log_destination", "log_format"}


def routes(subject: str, want: ExpectedApi, live: Api) -> list[Finding]:
    findings = []
    have = {r.key: r for r in live.routes}
    for key in sorted(set(have) - set(want.routes)):
        r = have[key]
        findings.append(judge("api.routes", f"{subject} route {key}", False, "no such route (not approved)",
                              {"AuthorizationType": r.authorization, "Target": r.target}))
    for key, spec in sorted(want.routes.items()):
        r = have.get(key)
        if r is None:
            findings.append(judge("api.routes", f"{subject} route {key}", False, spec, "no such route"))
            continue
        actual = {"AuthorizationType": r.authorization, "Target": r.target}
        expected = {"AuthorizationType": spec.get("AuthorizationType", "NONE"), "Target": spec.get("Target")}
        findings.append(judge("api.route-authorization", f"{subject} route {key}", actual == expected, expected, actual))
    return findings


def integrations(subject: str, want: ExpectedApi, live: Api) -> list[Finding]:
    have = {i.id: i.uri for i in live.integrations}
    if not want.integrations and not have:
        return [not_applicable("api.integrations", subject, "no integrations")]
    return [judge("api.integrations", f"{subject} integrations", have == want.integrations, want.integrations, have)]


def stages(subject: str, want: ExpectedApi, live: Api) -> list[Finding]:
    have = {s.name: {"burst": s.burst_limit, "rate": None if s.rate_limit is None else float(s.rate_limit),
                     "log_destination": s.access_log_destination, "log_format": s.access_log_format} for s in live.stages}
    expected = {name: {**spec, "rate": None if spec.get("rate") is None else float(spec["rate"])}
                for name, spec in want.stages.items()}
    if not expected and not have:
        return [not_applicable("api.stages", subject, "no stages")]
    findings = []
    for name in sorted(set(have) | set(expected)):
        findings.append(judge("api.stages", f"{subject} stage {name}", have.get(name) == expected.get(name),
                              expected.get(name, "no such stage"), have.get(name, "no such stage")))
    return findings
