"""The recovery gates for the readiness report (``bin/ops readiness``).

- RPO and RTO are defined for every store (``recovery.objectives``);
- the restore procedure is documented with the drill's command
  (docs/runbooks/restore.md names ``bin/ops restore-drill``);
- production's backups are copied out of the primary region: the backup
  plan's copy action points at a vault in another region (staging: not
  required);
- the tabletop exercise stays MANUAL (people, not templates), with the date
  of the last entry in the runbook's tabletop log as evidence.
"""
from __future__ import annotations

import re
from pathlib import Path

from envconfig.aws import AwsConfig, Store

from .rules.gate import Artifacts, Gate, Verdict
from .rules.gate import gate as _gate

ROOT = Path(__file__).resolve().parent.parent
RUNBOOK = ROOT / "docs" / "runbooks" / "restore.md"


def _flat(value) -> str:
    """A copy action's destination ARN as text (CDK joins in the partition)."""
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(p if isinstance(p, str) else "aws" for p in parts)
    return value if isinstance(value, str) else ""


def recovery_gates(a: Artifacts, config: AwsConfig, *, runbook: Path = RUNBOOK) -> list[Gate]:
    objectives = config.recovery.objectives if config.recovery else {}
    missing = [s.value for s in Store if s not in objectives]
    defined = ", ".join(f"{s.value} {o.rpo_minutes}/{o.rto_minutes} min" for s, o in objectives.items())
    text = runbook.read_text() if runbook.exists() else ""
    copies = [_flat(c.get("DestinationBackupVaultArn"))
              for _, _, plan in a.aws_resources("AWS::Backup::BackupPlan")
              for rule in plan["Properties"]["BackupPlan"]["BackupPlanRule"] for c in rule.get("CopyActions", [])]
    regions = sorted({arn.split(":")[3] for arn in copies if arn.count(":") >= 5})
    out_of_region = bool(regions) and config.region not in regions
    log = re.findall(r"^\| (\d{4}-\d{2}-\d{2}) \|", text.split("## Tabletop log", 1)[-1], re.M) if "## Tabletop log" in text else []
    return [
        _gate("Ops", "RPO/RTO defined for every store", not missing,
              f"RPO/RTO {defined}" if not missing else f"no objectives for {missing} (recovery.objectives in {config.source.name})"),
        _gate("Ops", "restore procedure documented, with the drill", "bin/ops restore-drill" in text,
              f"{RUNBOOK.relative_to(ROOT)} {'names bin/ops restore-drill' if text else 'is missing'}"),
        _gate("Ops", "backups copied out of the primary region", out_of_region or not config.is_production,
              f"copy action to {regions}" if copies else ("no cross-region copy (not required outside production)"
                                                           if not config.is_production else "production backup plan has no copy action")),
        Gate("Ops", "tabletop exercise completed", Verdict.MANUAL,
             (f"last entry in the runbook's tabletop log: {max(log)}" if log else "no entry in the runbook's tabletop log")
             + f": see {RUNBOOK.relative_to(ROOT)}"),
    ]
