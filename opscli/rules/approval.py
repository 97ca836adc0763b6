"""What was deployed is what was approved (docs/requirements.md#approval,
#verify-and-drift): the account records an approval id; the deployed
templates equal that kept assembly's. No record (a plain ``cdk deploy``) is a
warning in staging and a failure in production."""
from __future__ import annotations

import json

from ..live.approval_record import Record
from . import Finding, Outcome, judge


def recorded(record: Record, *, production: bool, kept: bool, kept_dir: str) -> Finding:
    bad = Outcome.FAIL if production else Outcome.WARN
    if record.approval_id is None:
        why = record.problem or "no deployment record: deployed outside bin/ops (e.g. a plain cdk deploy)"
        return Finding("approval.recorded", record.parameter, bad, "an approval id written by bin/ops deploy", why,
                       "judged against the deployed templates instead")
    if not kept:
        return Finding("approval.recorded", record.parameter, bad, f"the kept assembly {kept_dir}",
                       "not on this machine", f"approval {record.approval_id} cannot be judged")
    return judge("approval.recorded", record.parameter, True, "an approval id",
                 f"{record.approval_id} (deployed {record.deployed_at} by {record.by})")


def kept_intact(parameter: str, approval_id: str, kept_digest: str | None, problem: str | None = None) -> Finding:
    """The kept assembly still has the recorded id as its digest: a kept directory altered on
    this machine is reported as tampering, never used as the expectation."""
    actual = kept_digest if kept_digest is not None else f"unreadable: {problem}"
    return judge("approval.kept", parameter, kept_digest == approval_id,
                 f"a kept assembly whose digest is {approval_id}", actual)


def _changes(approved: dict, deployed: dict) -> list[str]:
    a, d = approved.get("Resources", {}), deployed.get("Resources", {})
    changes = [f"+{k}" for k in sorted(set(d) - set(a))] + [f"-{k}" for k in sorted(set(a) - set(d))]
    changes += [f"~{k}" for k in sorted(set(a) & set(d)) if json.dumps(a[k], sort_keys=True) != json.dumps(d[k], sort_keys=True)]
    for section in ("Parameters", "Outputs", "Conditions", "Mappings"):
        if json.dumps(approved.get(section), sort_keys=True) != json.dumps(deployed.get(section), sort_keys=True):
            changes.append(f"~{section}")
    return changes


def template(stack: str, approval_id: str, approved: dict, deployed: dict) -> Finding:
    changes = _changes(approved, deployed)
    return judge("approval.template", f"{stack} template", not changes, f"the template of approval {approval_id[:12]}",
                 "equal" if not changes else f"changed outside bin/ops: {', '.join(changes)}")
