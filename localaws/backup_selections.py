"""AWS Backup selections through the API: moto 5.2.5 has no selection
model, and ``ListBackupSelections`` / ``GetBackupSelection`` answer 500.

The ``AWS::Backup::BackupSelection`` handler records each selection on its
moto plan (``plan.selections``); these two actions read them back in the
API's shapes, so ``bin/ops verify`` can check, as on AWS, that a backup plan
selects every table. A deleted plan takes its selections with it.
"""
from __future__ import annotations

import json

_INSTALLED = False


def _plan(response):
    from moto.backup.exceptions import ResourceNotFoundException

    plan_id = response.path.split("/plans/")[-1].split("/")[0]
    plan = response.backup_backend.plans.get(plan_id)
    if plan is None or getattr(plan, "deletion_date", None):
        raise ResourceNotFoundException(msg=f"Failed reading backup plan {plan_id}")
    return plan


def list_backup_selections(self) -> str:
    plan = _plan(self)
    listed = [{"SelectionId": sid, "SelectionName": sel.get("SelectionName"), "BackupPlanId": plan.backup_plan_id,
               "IamRoleArn": sel.get("IamRoleArn"), "CreationDate": plan.creation_date}
              for sid, sel in (getattr(plan, "selections", None) or {}).items()]
    return json.dumps({"BackupSelectionsList": listed})


def get_backup_selection(self) -> str:
    from moto.backup.exceptions import ResourceNotFoundException

    plan = _plan(self)
    selection_id = self.path.rstrip("/").split("/selections/")[-1]
    selection = (getattr(plan, "selections", None) or {}).get(selection_id)
    if selection is None:
        raise ResourceNotFoundException(msg=f"Failed reading backup selection {selection_id}")
    return json.dumps({"BackupSelection": selection, "SelectionId": selection_id, "BackupPlanId": plan.backup_plan_id,
                       "CreationDate": plan.creation_date})


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.backup.responses import BackupResponse

    BackupResponse.list_backup_selections = list_backup_selections
    BackupResponse.get_backup_selection = get_backup_selection
    _INSTALLED = True
