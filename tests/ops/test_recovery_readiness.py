"""The readiness report's recovery gates (opscli/recovery_readiness.py), on the synthesized app."""
from __future__ import annotations

import copy
import dataclasses

from envconfig.aws import Environment
from opscli.readiness import Artifacts, Verdict
from opscli.recovery_readiness import recovery_gates


def artifacts(aws_app, env) -> Artifacts:
    stacks = {stack: t for (e, stack), t in aws_app.templates.items() if e is env}
    return Artifacts(stacks, {}, ())


def verdicts(gates):
    return {g.name: g.verdict for g in gates}


def test_production_passes_with_objectives_runbook_and_a_copy_out_of_region(aws_app):
    gates = recovery_gates(artifacts(aws_app, Environment.PRODUCTION), aws_app.configs[Environment.PRODUCTION])
    assert verdicts(gates) == {
        "RPO/RTO defined for every store": Verdict.PASS,
        "restore procedure documented, with the drill": Verdict.PASS,
        "backups copied out of the primary region": Verdict.PASS,
        "tabletop exercise completed": Verdict.MANUAL,
    }
    assert "copy action to ['us-west-2']" in {g.name: g.evidence for g in gates}["backups copied out of the primary region"]


def test_production_without_the_copy_or_objectives_fails(aws_app, tmp_path):
    a = artifacts(aws_app, Environment.PRODUCTION)
    data = copy.deepcopy(a.aws["Data"])
    for plan in (r for r in data["Resources"].values() if r["Type"] == "AWS::Backup::BackupPlan"):
        for rule in plan["Properties"]["BackupPlan"]["BackupPlanRule"]:
            rule.pop("CopyActions", None)
    config = aws_app.configs[Environment.PRODUCTION]
    no_objectives = dataclasses.replace(config, recovery=dataclasses.replace(config.recovery, objectives={}))
    gates = recovery_gates(Artifacts({**a.aws, "Data": data}, {}, ()), no_objectives, runbook=tmp_path / "missing.md")
    assert verdicts(gates) == {
        "RPO/RTO defined for every store": Verdict.FAIL,
        "restore procedure documented, with the drill": Verdict.FAIL,
        "backups copied out of the primary region": Verdict.FAIL,
        "tabletop exercise completed": Verdict.MANUAL,
    }


def test_staging_needs_no_cross_region_copy(aws_app):
    gates = recovery_gates(artifacts(aws_app, Environment.STAGING), aws_app.configs[Environment.STAGING])
    assert verdicts(gates)["backups copied out of the primary region"] is Verdict.PASS
