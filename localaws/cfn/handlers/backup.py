"""AWS Backup: vault, plan and selection, unknown to moto's CloudFormation.

moto 5.2.5 models vaults and plans but has no selection API, so a selection
is recorded on its moto plan (``plan.selections``) where a read-back can see
it; it is not visible through the Backup API of the emulator."""
from __future__ import annotations

from moto.backup.models import Plan, backup_backends
from moto.moto_api._internal import mock_random

from .base import Handler, Resource, tags_dict, register


def _backend(account_id: str, region: str):
    return backup_backends[account_id][region]


@register
class BackupVault(Handler):
    TYPE = "AWS::Backup::BackupVault"
    NAME_PROPERTY = "BackupVaultName"
    ATTRIBUTES = ("BackupVaultArn", "BackupVaultName")

    @classmethod
    def create(cls, name, props, account_id, region):
        vault = _backend(account_id, region).create_backup_vault(
            backup_vault_name=name, backup_vault_tags=tags_dict(props.get("BackupVaultTags")),
            encryption_key_arn=props.get("EncryptionKeyArn"), creator_request_id=None)
        if props.get("LockConfiguration"):
            lock = props["LockConfiguration"]
            _backend(account_id, region).put_backup_vault_lock_configuration(
                name, lock.get("MinRetentionDays"), lock.get("MaxRetentionDays"), lock.get("ChangeableForDays"))
        attrs = {"BackupVaultArn": vault.backup_vault_arn, "BackupVaultName": name}
        return Resource(cls, name, attrs, account_id, region)

    @classmethod
    def update(cls, original, name, props, account_id, region):
        vault = _backend(account_id, region).describe_backup_vault(original.physical_resource_id)
        if props.get("EncryptionKeyArn") != vault.encryption_key_arn:
            raise ValueError("changing a vault's key replaces the vault; the local target refuses")
        return original

    @classmethod
    def remove(cls, resource, account_id, region):
        _backend(account_id, region).delete_backup_vault(resource.physical_resource_id)


def _api_plan(cfn_plan):
    """CloudFormation's BackupPlan in the API's shape."""
    rules = []
    for rule in cfn_plan.get("BackupPlanRule", []):
        api = {k: v for k, v in rule.items() if k not in ("TargetBackupVault", "RecoveryPointTags")}
        api["TargetBackupVaultName"] = rule["TargetBackupVault"]
        if "RecoveryPointTags" in rule:
            api["RecoveryPointTags"] = tags_dict(rule["RecoveryPointTags"])
        rules.append(api)
    plan = {"BackupPlanName": cfn_plan["BackupPlanName"], "Rules": rules}
    if cfn_plan.get("AdvancedBackupSettings"):
        plan["AdvancedBackupSettings"] = cfn_plan["AdvancedBackupSettings"]
    return plan


def _check_vaults(backend, plan):
    for rule in plan["Rules"]:
        backend.describe_backup_vault(rule["TargetBackupVaultName"])  # raises if missing, as AWS


@register
class BackupPlan(Handler):
    TYPE = "AWS::Backup::BackupPlan"
    ATTRIBUTES = ("BackupPlanArn", "BackupPlanId", "VersionId")

    @classmethod
    def _resource(cls, plan, account_id, region):
        attrs = {"BackupPlanArn": plan.backup_plan_arn, "BackupPlanId": plan.backup_plan_id,
                 "VersionId": plan.version_id}
        return Resource(cls, plan.backup_plan_id, attrs, account_id, region)

    @classmethod
    def create(cls, name, props, account_id, region):
        backend = _backend(account_id, region)
        api_plan = _api_plan(props["BackupPlan"])
        _check_vaults(backend, api_plan)
        # moto refuses a name that a *deleted* plan had (it keeps deleted plans
        # with a deletion date); AWS does not, and a redeploy after a destroy
        # re-creates the plan under its old name.
        if any(p.backup_plan["BackupPlanName"] == api_plan["BackupPlanName"] and not getattr(p, "deletion_date", None)
               for p in backend.plans.values()):
            plan = backend.create_backup_plan(api_plan, {}, None)  # raises AlreadyExistsException, as AWS
        plan = Plan(backup_plan=api_plan, creator_request_id=None, backend=backend)
        if props.get("BackupPlanTags"):
            backend.tag_resource(plan.backup_plan_arn, tags_dict(props["BackupPlanTags"]))
        backend.plans[plan.backup_plan_id] = plan
        plan.selections = {}
        return cls._resource(plan, account_id, region)

    @classmethod
    def update(cls, original, name, props, account_id, region):
        backend = _backend(account_id, region)
        plan = backend.plans[original.physical_resource_id]
        api_plan = _api_plan(props["BackupPlan"])
        _check_vaults(backend, api_plan)
        # A new version of the same plan id, as UpdateBackupPlan does.
        fresh = Plan(backup_plan=api_plan, creator_request_id=None, backend=backend)
        plan.backup_plan, plan.version_id = fresh.backup_plan, fresh.version_id
        return cls._resource(plan, account_id, region)

    @classmethod
    def remove(cls, resource, account_id, region):
        backend = _backend(account_id, region)
        if resource.physical_resource_id in backend.plans:
            backend.delete_backup_plan(resource.physical_resource_id)


@register
class BackupSelection(Handler):
    TYPE = "AWS::Backup::BackupSelection"
    ATTRIBUTES = ("BackupPlanId", "SelectionId")

    @classmethod
    def create(cls, name, props, account_id, region):
        plan_id = props["BackupPlanId"]
        plan = _backend(account_id, region).get_backup_plan(plan_id, None)
        selection_id = str(mock_random.uuid4())
        if not getattr(plan, "selections", None):
            plan.selections = {}
        plan.selections[selection_id] = dict(props["BackupSelection"])
        attrs = {"BackupPlanId": plan_id, "SelectionId": selection_id}
        return Resource(cls, selection_id, attrs, account_id, region, plan_id=plan_id)

    @classmethod
    def update(cls, original, name, props, account_id, region):
        cls.remove(original, account_id, region)
        return cls.create(name, props, account_id, region)

    @classmethod
    def remove(cls, resource, account_id, region):
        plan = _backend(account_id, region).plans.get(resource.state.get("plan_id"))
        if plan is not None:
            getattr(plan, "selections", {}).pop(resource.physical_resource_id, None)
