"""What an operator (or an attacker with backup permissions) can change on a
backup plan after deploy, which moto 5.2.5 answers with NotImplemented:

* ``UpdateBackupPlan``: replaces the plan's rules (new ``VersionId``; rule
  defaults filled in as CreateBackupPlan does, as AWS does);
* ``CreateBackupSelection`` / ``DeleteBackupSelection``: selections are kept
  on the plan (``plan.selections``), where the CloudFormation handler puts
  them and ``ListBackupSelections`` / ``GetBackupSelection``
  (localaws/backup_selections.py) read them.

Shapes as in the AWS Backup API reference
(https://docs.aws.amazon.com/aws-backup/latest/devguide/API_UpdateBackupPlan.html,
API_CreateBackupSelection.html, API_DeleteBackupSelection.html).
"""
from __future__ import annotations

import json
import uuid

_INSTALLED = False


def _plan(response, plan_id: str):
    from moto.backup.exceptions import ResourceNotFoundException

    plan = response.backup_backend.plans.get(plan_id)
    if plan is None or getattr(plan, "deletion_date", None):
        raise ResourceNotFoundException(msg=f"Failed reading backup plan {plan_id}")
    return plan


def _plan_id(path: str) -> str:
    return path.split("/plans/")[-1].split("/")[0]


def update_backup_plan(self) -> str:
    from moto.backup.models import Plan

    plan = _plan(self, _plan_id(self.path))
    body = json.loads(self.body)
    # A throwaway Plan fills the rule defaults and ids exactly as CreateBackupPlan does.
    fresh = Plan(body["BackupPlan"], plan.creator_request_id, self.backup_backend)
    plan.backup_plan = fresh.backup_plan
    plan.advanced_backup_settings = fresh.advanced_backup_settings
    plan.version_id = fresh.version_id
    return json.dumps({"BackupPlanId": plan.backup_plan_id, "BackupPlanArn": plan.backup_plan_arn,
                       "CreationDate": plan.creation_date, "VersionId": plan.version_id,
                       "AdvancedBackupSettings": plan.advanced_backup_settings})


def create_backup_selection(self) -> str:
    plan = _plan(self, _plan_id(self.path))
    selection = json.loads(self.body)["BackupSelection"]
    if not hasattr(plan, "selections") or plan.selections is None:
        plan.selections = {}
    selection_id = str(uuid.uuid4())
    plan.selections[selection_id] = dict(selection)
    return json.dumps({"SelectionId": selection_id, "BackupPlanId": plan.backup_plan_id, "CreationDate": plan.creation_date})


def delete_backup_selection(self) -> str:
    from moto.backup.exceptions import ResourceNotFoundException

    plan = _plan(self, _plan_id(self.path))
    selection_id = self.path.rstrip("/").split("/selections/")[-1]
    if selection_id not in (getattr(plan, "selections", None) or {}):
        raise ResourceNotFoundException(msg=f"Failed reading backup selection {selection_id}")
    del plan.selections[selection_id]
    return "{}"


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.backup.responses import BackupResponse

    BackupResponse.update_backup_plan = update_backup_plan
    BackupResponse.create_backup_selection = create_backup_selection
    BackupResponse.delete_backup_selection = delete_backup_selection
    _INSTALLED = True
